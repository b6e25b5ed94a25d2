package dev.bertclf.nd4jfix.speed;

import dev.bertclf.TinyGraphs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.util.HashUtil;
import org.tensorflow.framework.GraphDef;

import java.lang.reflect.Field;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TF's Tanh, imported and moved to libnd4j's custom op, computes and differentiates what TF's does. */
class TanhThroughOneDnnTest {
    static GraphDef graph;
    static INDArray expected;

    @BeforeAll
    static void buildInTensorflow() {
        // standard deviation 2: both tanh's linear middle and its saturated ends, as GELU's tanh sees them
        TinyGraphs.OneOp tf = TinyGraphs.oneOp("Tanh", "x", TinyGraphs.random(3, 2, 3, 16).muli(2), "y");
        graph = tf.graph();
        expected = tf.expected();
    }

    static SameDiff imported(boolean rewritten) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        sd.getVariable("x").convertToVariable();
        sd.enableEagerMode(); // as the importer leaves BERT
        if (rewritten) {
            assertEquals(1, new TanhThroughOneDnn().apply(sd));
            assertEquals(0, new TanhThroughOneDnn().apply(sd), "idempotent");
        }
        SDVariable loss = sd.getVariable("y").mul(sd.constant("w", TinyGraphs.random(5, 2, 3, 16))).sum("loss");
        sd.setLossVariables(loss);
        return sd;
    }

    static long customTanhOps(SameDiff sd) {
        return sd.getOps().values().stream().filter(o -> o.getOp() instanceof TanhThroughOneDnn.CustomTanh).count();
    }

    @Test
    void theImportedTanhIsTheLegacyTransformAndTheRewrittenOneTheCustomOp() {
        assertTrue(imported(false).getOps().values().stream().anyMatch(o -> o.getOp() instanceof Tanh),
                "M2.1 imports Tanh as the legacy transform; if this fails, the importer changed and the"
                        + " rewrite may go");
        SameDiff sd = imported(true);
        assertEquals(1, customTanhOps(sd));
        assertTrue(sd.getOps().values().stream().noneMatch(o -> o.getOp() instanceof Tanh));
    }

    @Test
    void rewrittenTanhComputesWhatTensorflowComputes() {
        assertEquals(0, imported(true).outputSingle(Map.of(), "y").sub(expected).amaxNumber().doubleValue(), 1e-6);
    }

    @Test
    void rewrittenTanhBackPropagatesTheTrueGradientAlsoAfterSaveAndLoad() throws Exception {
        SameDiff sd = imported(true);
        double before = TinyGraphs.worstGradientError(sd, sd, "x");
        assertTrue(before < 2e-3, "worst gradient error " + before);
        SameDiff loaded = TinyGraphs.saveAndLoad(sd);
        assertEquals(1, customTanhOps(loaded), "the loaded graph still has the custom op");
        assertTrue(TinyGraphs.worstGradientError(loaded, loaded, "x") < 2e-3, "after save/load");
        assertEquals(0, loaded.outputSingle(Map.of(), "y").sub(expected).amaxNumber().doubleValue(), 1e-6);
    }

    @Test
    void aSavedGraphGetsItsCustomTanhBackOnlyWithTheRegistration() throws Exception {
        SameDiff sd = imported(true);
        Map<Long, Class<?>> registry = registry();
        long hash = HashUtil.getLongHash(TanhThroughOneDnn.OP_NAME);
        registry.remove(hash);
        try {
            boolean custom;
            try {
                custom = customTanhOps(TinyGraphs.saveAndLoad(sd)) == 1;
            } catch (RuntimeException refused) {
                custom = false;
            }
            assertFalse(custom, "without the registration ND4J cannot know the class");
        } finally {
            new TanhThroughOneDnn().registerForLoading();
        }
        assertEquals(TanhThroughOneDnn.CustomTanh.class, registry.get(hash));
        assertEquals(1, customTanhOps(TinyGraphs.saveAndLoad(sd)));
    }

    @SuppressWarnings("unchecked")
    static Map<Long, Class<?>> registry() throws ReflectiveOperationException {
        Field f = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClass");
        f.setAccessible(true);
        return (Map<Long, Class<?>>) f.get(DifferentialFunctionClassHolder.getInstance());
    }
}
