package dev.bertclf.nd4jfix.speed;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.LayerNorm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A speed rewrite that needs an op class of its own: each fused LayerNorm ({@code layer_norm} over the last axis,
 * with gamma and beta; 25 in BERT-base, made by {@code LayerNormOps}) becomes an op that computes the same libnd4j
 * kernel but whose gradient is built from cheap ops: with {@code x̂ = (x - mean) / std} per row and
 * {@code d = g · gamma}, {@code dx = (d - mean(d) - x̂ · mean(d · x̂)) / std}, {@code dgamma} and {@code dbeta} the
 * column sums of {@code g · x̂} and {@code g} (as GEMMs). All means and deviations run along the last axis.
 *
 * <p><b>Symptom:</b> {@code layer_norm_bp} takes about an eighth of a 16×128 training step, several times what the
 * same gradient from the ops above takes (docs/performance.md, "LayerNorm's gradient from cheap ops").
 * <p><b>Cause:</b> M2.1's {@code layer_norm_bp} standardizes the input again, then calls {@code standardize_bp},
 * which recomputes means and deviations several times over (through {@code reduce_mean_bp} and
 * {@code reduce_stdev_bp}) with a temporary array for every step, and reduces along dimension 0 for gamma and beta,
 * which M2.1 does slowly.
 * <p>The gradient divides by each row's standard deviation, as the forward kernel does; a row of equal values (which
 * BERT's activations never have) gets a non-finite gradient where ND4J's kernel replaces NaN by 0. Each execution
 * checks the shapes the gradient rests on (gamma and beta {@code [n]} for an input {@code [..., n]} normalized over its
 * last axis) and fails with a clear error otherwise. {@link #registerForLoading()} lets a saved graph find the op
 * class.
 * <p><b>Guarded by:</b> {@code DecomposedLayerNormGradientTest} (forward equal to ND4J's {@code layer_norm}, gradients
 * equal to ND4J's {@code layer_norm_bp} and to finite differences, before and after save and load, rank 2 and 3; the
 * shape checks) and {@code BertParityTest}.
 * <p><b>Remove when:</b> a newer ND4J's {@code layer_norm_bp} costs about what a few elementwise passes cost; then
 * drop this rewrite (the model cache is rebuilt) and the registration.
 */
public final class DecomposedLayerNormGradient implements GraphRewrite {
    /** Saved graphs name the op by this, with op number 0 (no libnd4j op has this name). */
    static final String LAYER_NORM = "bertclf_layer_norm";

    static {
        register();
    }

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, DecomposedLayerNormGradient::rewrite);
    }

    private static int rewrite(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!(op.getOp() instanceof LayerNorm ln) || op.getInputsToOp().size() != 3
                    || op.getOutputsOfOp().size() != 1 || ln.iArgs().length != 1
                    || (ln.bArgs().length > 0 && ln.bArgs()[0])) {
                continue; // channels-first, several axes or no beta: ND4J's op stays
            }
            List<SDVariable> in = op.getInputsToOp().stream().map(sd::getVariable).toList();
            if (in.get(0).dataType() != DataType.FLOAT) {
                continue;
            }
            SDVariable out = new LayerNormOp(sd, in.get(0), in.get(1), in.get(2), (int) ln.iArgs()[0])
                    .outputVariable();
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), out);
            changed++;
        }
        return changed;
    }

    /** Lets {@code SameDiff.load} recreate the op class from a saved graph. Idempotent. */
    @Override
    public void registerForLoading() {
        register();
    }

    private static void register() {
        OneOutputOp.register(LAYER_NORM, LayerNormOp.class);
    }

    /**
     * libnd4j's {@code layer_norm} of {@code x [..., n]} over its last axis, with {@code gamma [n]} and
     * {@code beta [n]}; the gradient as in the class comment.
     */
    public static final class LayerNormOp extends RenamedKernelOp {
        /** For ND4J's deserialisation. */
        public LayerNormOp() {
        }

        public LayerNormOp(SameDiff sd, SDVariable x, SDVariable gamma, SDVariable beta, int axis) {
            super(sd, x, gamma, beta);
            addIArgument(axis);
            addBArgument(false); // channels last, as the kernel reads it
        }

        @Override
        public String opName() {
            return LAYER_NORM;
        }

        @Override
        String kernel() {
            return "layer_norm";
        }

        private int axis() {
            return (int) iArgs()[0];
        }

        @Override
        void check(List<INDArray> inputs) {
            INDArray x = inputs.get(0);
            INDArray gamma = inputs.get(1);
            INDArray beta = inputs.get(2);
            long n = x.rank() < 2 ? -1 : x.size(-1);
            // axis -1 only at rank 2: M2.1's keep-dims reductions over axis -1 of a rank-3 or larger array (the
            // gradient's row means) compute wrong values, with the right shape
            if (x.rank() < 2 || (axis() != x.rank() - 1 && !(axis() == -1 && x.rank() == 2)) || gamma.rank() != 1
                    || beta.rank() != 1 || gamma.size(0) != n || beta.size(0) != n) {
                throw new IllegalStateException(getOwnName() + ": a LayerNorm over the last axis expects [..., n], [n]"
                        + " and [n], got " + Arrays.toString(x.shape()) + ", " + Arrays.toString(gamma.shape())
                        + " and " + Arrays.toString(beta.shape()) + " over axis " + axis());
            }
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            int axis = axis();
            SDVariable x = arg(0);
            SDVariable gamma = arg(1);
            SDVariable g = gradients.get(0);
            SDVariable centered = x.sub(x.mean(true, axis));
            // the population deviation, [..., 1], as the kernel divides by it (M2.1's std op is slow here)
            SDVariable std = sameDiff.math.sqrt(centered.mul(centered).mean(true, axis));
            SDVariable normalized = centered.div(std);                          // x̂ [..., n]
            SDVariable d = g.mul(gamma);
            SDVariable meanD = d.mean(true, axis);                              // [..., 1]
            SDVariable dx = d.sub(meanD).sub(normalized.mul(d.mul(normalized).mean(true, axis))).div(std);
            // gamma's and beta's gradients: column sums over all rows, with rows = the leading axes
            boolean matrix = axis == 1;
            long n = gamma.getArr() != null ? gamma.getArr().length() : gamma.getShape()[0];
            SDVariable gRows = matrix ? g : g.reshape(-1, n);
            SDVariable scaled = matrix ? g.mul(normalized) : g.mul(normalized).reshape(-1, n);
            SDVariable ones = sameDiff.onesLike(matrix ? meanD : meanD.reshape(-1, 1));   // [rows, 1]
            return List.of(dx, columnSums(scaled, ones), columnSums(gRows, ones));
        }
    }
}
