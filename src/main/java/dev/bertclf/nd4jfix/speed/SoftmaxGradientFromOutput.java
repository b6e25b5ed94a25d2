package dev.bertclf.nd4jfix.speed;

import dev.bertclf.nd4jfix.repair.SoftmaxLastAxis;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A memory rewrite that needs an op class of its own: each attention softmax (over the last axis of the masked scores
 * {@code [batch, heads, from, to]}, {@link LeanAddGradients}'s mask add; 12 in BERT-base) becomes libnd4j's same
 * {@code softmax} kernel under an op class whose gradient is built from the softmax's output {@code y}:
 * {@code dx = y · (g - Σ g·y)}, the sum over the last axis. The output is kept for backprop anyway (the attention
 * dropout's gradient and the product with {@code V} read it); the input no longer is. The sum names its axis as 3:
 * M2.1's {@code sum} with kept dimensions over axis -1 of a rank-4 array broadcasts back wrongly (a gradient right
 * in its first row only), so the op checks at every execution that its input has rank 4.
 *
 * <p><b>Symptom:</b> a 16×128 full fine-tuning step of BERT-base keeps each layer's masked attention scores
 * {@code [batch, heads, seqLen, seqLen]} (12.6 MB a layer, 0.15 GB in all) to the end of the forward pass.
 * <p><b>Cause:</b> M2.1's {@code SoftMax} differentiates into {@code softmax_bp(x, g)}, which recomputes the softmax
 * from its input.
 * <p><b>Guarded by:</b> {@code SoftmaxGradientFromOutputTest} (forward vs TF, gradient vs finite differences before
 * and after save and load, the input released before backprop) and {@code BertParityTest}.
 * <p><b>Remove when:</b> a newer ND4J's softmax gradient reads the output; then drop this rewrite (the model cache is
 * rebuilt) and the registration.
 */
public final class SoftmaxGradientFromOutput implements GraphRewrite {
    /** Saved graphs name the op by this, with op number 0 (no libnd4j op has this name). */
    static final String SOFTMAX = "bertclf_attention_softmax";
    /** The last axis of the scores, named by its index: see the class comment. */
    private static final int LAST_OF_RANK_4 = 3;

    static {
        register();
    }

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, SoftmaxGradientFromOutput::rewrite);
    }

    private static int rewrite(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!(op.getOp() instanceof SoftMax softmax) || op.getInputsToOp().size() != 1
                    || op.getOutputsOfOp().size() != 1 || softmax.iArgs().length != 1
                    || softmax.iArgs()[0] != SoftmaxLastAxis.LAST_AXIS) {
                continue; // another axis keeps ND4J's op
            }
            SDVariable x = sd.getVariable(op.getInputsToOp().get(0));
            String producer = sd.getVariables().get(x.name()).getOutputOfOp();
            if (x.dataType() != DataType.FLOAT || producer == null
                    || !(sd.getOps().get(producer).getOp() instanceof LeanAddGradients.MaskAdd)) {
                continue; // only the attention's softmax, whose input has rank 4
            }
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), new AttentionSoftmax(sd, x).outputVariable());
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
        OneOutputOp.register(SOFTMAX, AttentionSoftmax.class);
    }

    /**
     * libnd4j's {@code softmax} of {@code x [batch, heads, from, to]} over its last axis; the gradient from the output.
     */
    public static final class AttentionSoftmax extends RenamedKernelOp {
        /** For ND4J's deserialisation. */
        public AttentionSoftmax() {
        }

        public AttentionSoftmax(SameDiff sd, SDVariable x) {
            super(sd, x);
            addIArgument(SoftmaxLastAxis.LAST_AXIS);
        }

        @Override
        public String opName() {
            return SOFTMAX;
        }

        @Override
        String kernel() {
            return "softmax";
        }

        @Override
        void check(List<INDArray> inputs) {
            INDArray x = inputs.get(0);
            if (x.rank() != 4 || !x.dataType().isFPType()) {
                throw new IllegalStateException(getOwnName() + ": an attention softmax expects floating-point scores"
                        + " [batch, heads, from, to], got " + Arrays.toString(x.shape()) + " " + x.dataType());
            }
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            SDVariable y = outputVariable();
            SDVariable gy = gradients.get(0).mul(y);
            return List.of(gy.sub(y.mul(gy.sum(true, LAST_OF_RANK_4))));
        }
    }
}
