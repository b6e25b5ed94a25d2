package dev.bertclf.nd4jfix.speed;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.TanhDerivative;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.util.HashUtil;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A speed rewrite that needs a workaround: every imported {@code Tanh} (the pooler's; GELU's, 12 in BERT-base,
 * are {@link FusedGelu}'s now, which runs first) runs as libnd4j's custom op {@code tanh}, which oneDNN computes,
 * instead of the legacy transform the importer picks. Same values to one float rounding; the gradient op
 * ({@code tanh_bp}) is the one the legacy op uses too.
 *
 * <p><b>Symptom:</b> {@code tanh} is a visible share of a training step and of a forward pass: an order of magnitude
 * slower per element than oneDNN's (figures: docs/performance.md).
 * <p><b>Cause:</b> M2.1 maps TF's {@code Tanh} to the legacy transform {@code strict.Tanh}, which calls the scalar C
 * library {@code tanh} per element and never reaches the platform helpers; only the custom op of the same name
 * reaches oneDNN's vectorised eltwise kernel, and ND4J has no Java class for that custom op. {@link CustomTanh} is
 * that class; a saved graph finds it again only once it is registered with ND4J's op registry
 * ({@link #registerForLoading()}, which every place that loads a saved graph calls first).
 * <p><b>Guarded by:</b> {@code TanhThroughOneDnnTest} (forward vs TF, gradient vs finite differences, after save and
 * load; a graph with the custom op does not load without the registration) and {@code BertParityTest}.
 * <p><b>Remove when:</b> a newer ND4J imports {@code Tanh} as an op that reaches oneDNN, or has its own class for
 * the custom op; then drop this rewrite (the model cache is rebuilt) and the registration.
 */
public final class TanhThroughOneDnn implements GraphRewrite {
    /** libnd4j's name of the custom op (and, confusingly, of the legacy transform too). */
    static final String OP_NAME = "tanh";

    static {
        register();
    }

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, TanhThroughOneDnn::rewrite);
    }

    private static int rewrite(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!(op.getOp() instanceof Tanh) || op.getInputsToOp().size() != 1 || op.getOutputsOfOp().size() != 1
                    || !sd.getOps().containsKey(op.getName())) {
                continue;
            }
            SDVariable x = sd.getVariable(op.getInputsToOp().get(0));
            if (x.dataType() != DataType.FLOAT) {
                continue; // oneDNN's kernel is for float32; anything else stays as it was
            }
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), new CustomTanh(sd, x).outputVariable());
            changed++;
        }
        return changed;
    }

    /**
     * Lets {@code SameDiff.load} recreate {@link CustomTanh} from a saved graph: ND4J looks custom ops up by the
     * hash of their name in a registry built from its own classes. Idempotent.
     */
    @Override
    public void registerForLoading() {
        register();
    }

    @SuppressWarnings("unchecked")
    private static synchronized void register() {
        try {
            Field f = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClass");
            f.setAccessible(true);
            ((Map<Long, Class<?>>) f.get(DifferentialFunctionClassHolder.getInstance()))
                    .putIfAbsent(HashUtil.getLongHash(OP_NAME), CustomTanh.class);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("ND4J's op registry has no customOpHashToClass: unsupported ND4J version",
                    e);
        }
    }

    /** libnd4j's custom op {@code tanh}, elementwise, {@code [any] -> [same]}, with the legacy op's gradient. */
    public static final class CustomTanh extends DynamicCustomOp {
        /** For ND4J's deserialisation. */
        public CustomTanh() {
        }

        public CustomTanh(SameDiff sd, SDVariable x) {
            super(sd, new SDVariable[]{x});
        }

        @Override
        public String opName() {
            return OP_NAME;
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            return new TanhDerivative(sameDiff, arg(), gradients.get(0)).outputs();
        }

        @Override
        public List<DataType> calculateOutputDataTypes(List<DataType> inputTypes) {
            return List.of(inputTypes.get(0));
        }
    }
}
