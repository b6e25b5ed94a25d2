package dev.bertclf.nd4jfix;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BiasAdd;

import java.util.ArrayList;
import java.util.List;

/**
 * A speed rewrite that needs a workaround: every imported {@code BiasAdd} (the 73 dense layers of BERT-base) keeps
 * its forward op but back-propagates the bias gradient as a matrix product, {@code ones[1, rows] · dL/dy}, instead
 * of libnd4j's {@code biasadd_bp}. Same values up to float summation order.
 *
 * <p><b>Symptom:</b> {@code biasadd_bp} is 5% of a 16×128 training step (73 calls, 0.72 s), 34–72 ms for one
 * [2048, 3072] gradient, a plain column sum.
 * <p><b>Cause:</b> libnd4j sums the gradient's columns with a strided reduction (26–35 ms for that sum alone, also as
 * {@code reduce_sum} or {@code add_bp}) and copies the gradient for the input; the same sum as a GEMM takes about
 * 1 ms. M2.1 offers no switch, so {@link MatmulBiasGradient} is ND4J's {@code BiasAdd} with its own gradient, and
 * ND4J's op registry recreates {@code biasadd} from saved graphs as that class ({@link #registerForLoading()}:
 * forward unchanged, so an ND4J {@code BiasAdd} from a graph saved before is the same op with the faster gradient).
 * <p><b>Guarded by:</b> {@code BiasGradientByMatmulTest} (forward vs TF, gradients of input and bias vs finite
 * differences, after save and load; the registration) and {@code BertParityTest}, {@code ResumeAfterKillTest}.
 * <p><b>Remove when:</b> a newer ND4J's {@code biasadd_bp} is as fast as the matrix product; then drop the rewrite
 * (the model cache is rebuilt) and the registration.
 */
public final class BiasGradientByMatmul implements GraphRewrite {
    static final String OP_NAME = "biasadd";

    static {
        registerForLoading();
    }

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, BiasGradientByMatmul::rewrite);
    }

    private static int rewrite(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (op.getOp().getClass() != BiasAdd.class || op.getInputsToOp().size() != 2
                    || op.getOutputsOfOp().size() != 1 || !sd.getOps().containsKey(op.getName())) {
                continue;
            }
            boolean[] flags = ((BiasAdd) op.getOp()).bArgs();
            SDVariable bias = sd.getVariable(op.getInputsToOp().get(1));
            if ((flags.length > 0 && flags[0]) || bias.getShape() == null || bias.getShape().length != 1) {
                continue; // channels-first, or a bias without a known rank-1 shape: ND4J's own gradient stays
            }
            SDVariable x = sd.getVariable(op.getInputsToOp().get(0));
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), new MatmulBiasGradient(sd, x, bias).outputVariable());
            changed++;
        }
        return changed;
    }

    /** Lets {@code SameDiff.load} recreate every {@code biasadd} as {@link MatmulBiasGradient}. Idempotent. */
    public static void registerForLoading() {
        OpRegistry.use(OP_NAME, MatmulBiasGradient.class);
    }

    /**
     * libnd4j's {@code biasadd}, {@code x [..., n] + b [n]} (channels last), whose bias gradient is
     * {@code ones[1, rows] · dL/dy [rows, n]} and whose input gradient is {@code dL/dy} itself.
     */
    public static final class MatmulBiasGradient extends BiasAdd {
        /** For ND4J's deserialisation. */
        public MatmulBiasGradient() {
        }

        public MatmulBiasGradient(SameDiff sd, SDVariable x, SDVariable bias) {
            super(sd, x, bias, false);
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            long[] biasShape = arg(1).getShape();
            // the op's boolean argument, not the nchw field, which M2.1's constructor leaves at true
            boolean channelsFirst = bArgs().length > 0 && bArgs()[0];
            if (channelsFirst || biasShape == null || biasShape.length != 1) {
                return super.doDiff(gradients);
            }
            SDVariable dy = gradients.get(0);
            SDVariable rows = sameDiff.reshape(dy, -1, biasShape[0]);                          // [rows, n]
            SDVariable column = sameDiff.stridedSlice(rows, new long[]{0, 0}, new long[]{0, 1}, new long[]{1, 1},
                    1, 1, 0, 0, 0);                                                            // [rows, 1]
            SDVariable ones = sameDiff.onesLike(column);
            SDVariable db = sameDiff.mmul(ones, rows, true, false, false);                     // [1, n]
            return List.of(dy, sameDiff.reshape(db, biasShape[0]));
        }
    }
}
