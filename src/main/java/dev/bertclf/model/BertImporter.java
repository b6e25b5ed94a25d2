package dev.bertclf.model;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.graph.GraphRewrite;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.samediff.frameworkimport.tensorflow.importer.TensorflowFrameworkImporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.framework.GraphDef;
import org.tensorflow.framework.NodeDef;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Imports a cleaned, frozen BERT GraphDef into SameDiff, renames its inputs and outputs to {@link GraphNames},
 * and applies the repairs M2.1 needs to compute what TensorFlow computes.
 */
public final class BertImporter {
    private static final Logger log = LoggerFactory.getLogger(BertImporter.class);

    /**
     * The rewrites, in order: first the repairs (M2.1 imports these ops with wrong semantics), then the speed
     * rewrites (same values, cheaper ops).
     */
    public static final List<GraphRewrite> REWRITES = Engine.rewrites();
    /** Version of the import steps themselves (cleaning, renaming); raise it when they change. */
    private static final int IMPORT_VERSION = 3;
    /**
     * The model cache key's import part: the import version, then each rewrite's class name and version. Cached
     * graphs with another key are rebuilt, so a changed rewrite set never reuses a graph built by the old one.
     */
    public static final String VERSION = "import-" + IMPORT_VERSION + ";" + String.join(",",
            REWRITES.stream().map(GraphRewrite::key).toList());

    private BertImporter() {
    }

    /** Checks, before the slow import, that the GraphDef has every tensor the descriptor names. */
    public static void checkNames(GraphDef g, ModelDescriptor.Tensors t, String source) {
        Map<String, NodeDef> nodes = GraphDefs.byName(g);
        Map<String, String> required = new LinkedHashMap<>();
        required.put("tensors.input-ids", t.inputIds());
        required.put("tensors.input-mask", t.inputMask());
        required.put("tensors.segment-ids", t.segmentIds());
        required.put("tensors.pooled", t.pooled());
        required.put("tensors.sequence", t.sequence());
        for (Map.Entry<String, String> e : required.entrySet()) {
            if (!nodes.containsKey(e.getValue())) {
                throw new ModelException(source + " has no tensor '" + e.getValue() + "' (descriptor " + e.getKey()
                        + ")");
            }
        }
        for (String ph : List.of(t.inputIds(), t.inputMask(), t.segmentIds())) {
            if (!nodes.get(ph).getOp().equals("Placeholder")) {
                throw new ModelException(source + ": input '" + ph + "' is a " + nodes.get(ph).getOp()
                        + ", not a Placeholder");
            }
        }
    }

    /** Imports, renames and repairs. The GraphDef must already be cleaned by {@link GraphDefs#clean}. */
    public static SameDiff importGraph(GraphDef cleaned, ModelDescriptor.Tensors t, String source) {
        checkNames(cleaned, t, source);
        long start = System.nanoTime();
        SameDiff sd = Engine.importing(
                () -> new TensorflowFrameworkImporter().importFromGraph(cleaned, Collections.emptyMap()));
        log.info("Imported {} into SameDiff in {} s: {} ops", source,
                String.format("%.1f", (System.nanoTime() - start) / 1e9), sd.getOps().size());
        rename(sd, t.inputIds(), GraphNames.INPUT_IDS, source);
        rename(sd, t.inputMask(), GraphNames.INPUT_MASK, source);
        rename(sd, t.segmentIds(), GraphNames.SEGMENT_IDS, source);
        alias(sd, t.pooled(), GraphNames.POOLED, source);
        alias(sd, t.sequence(), GraphNames.SEQUENCE, source);
        repair(sd);
        validate(sd, source);
        return sd;
    }

    /** Applies every rewrite, logging what each changed. */
    public static void repair(SameDiff sd) {
        for (GraphRewrite r : REWRITES) {
            int n = r.apply(sd);
            log.info("Rewrite {}: {} ops changed", r.key(), n);
        }
    }

    /** Fails fast, naming the tensor, when a graph lacks a name the project relies on. */
    public static void validate(SameDiff sd, String source) {
        for (String ph : List.of(GraphNames.INPUT_IDS, GraphNames.INPUT_MASK, GraphNames.SEGMENT_IDS)) {
            SDVariable v = sd.getVariable(ph);
            if (v == null || v.getVariableType() != VariableType.PLACEHOLDER) {
                throw new ModelException(source + ": missing placeholder '" + ph + "'");
            }
        }
        for (String out : List.of(GraphNames.POOLED, GraphNames.SEQUENCE)) {
            if (!sd.hasVariable(out)) {
                throw new ModelException(source + ": missing output '" + out + "'");
            }
        }
    }

    private static void rename(SameDiff sd, String from, String to, String source) {
        if (from.equals(to)) {
            return;
        }
        if (!sd.hasVariable(from)) {
            throw new ModelException(source + ": imported graph has no variable '" + from + "'");
        }
        sd.renameVariable(from, to);
    }

    /**
     * Gives an op output the project's name through an identity op: renaming an op's output in place breaks
     * M2.1's flatbuffers serialization ("Variable name not found in list of outputs").
     */
    private static void alias(SameDiff sd, String from, String to, String source) {
        SDVariable v = sd.getVariable(from);
        if (v == null) {
            throw new ModelException(source + ": imported graph has no variable '" + from + "'");
        }
        sd.identity(to, v);
    }
}
