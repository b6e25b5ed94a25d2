package dev.bertclf.nd4jfix.speed;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BiasAdd;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A memory rewrite that needs op classes of its own: the dense layers' bias adds ({@code BiasAdd(MatMul(x, W), b)},
 * 73 in BERT-base), the adds that take one of their outputs (the residual adds, 24) and the attention mask's adds
 * (the scores plus the mask's adder, read by the softmax, 12) become ops that compute the same libnd4j kernels
 * ({@code biasadd}, {@code add}) but whose gradients are built from the incoming gradient alone: the input gradient
 * is the incoming gradient itself, the bias gradient its column sums (computed as a GEMM), the adder's its sums over
 * the heads. So backprop no longer holds those ops' inputs.
 *
 * <p><b>Symptom:</b> at the start of backprop, a full fine-tuning step holds about twice the activations that BERT's
 * backprop needs; much of the difference is the matmul outputs under each bias add and the inputs of these adds,
 * kept to the end of the step for their shapes only (figures: docs/performance.md).
 * <p><b>Cause:</b> M2.1's {@code BiasAdd} and {@code AddOp} differentiate into {@code biasadd_bp} and
 * {@code add_bp}, which take the forward inputs (to reduce broadcast gradients back to their shapes), so the session
 * keeps every input until the backward op has run. A bias add of a matrix and an add of two arrays of one shape
 * never broadcast, and the mask's adder broadcasts over the heads alone, so their gradients need no input. Each op
 * class checks, on every execution, the shapes this rests on (a rank-2 input; two inputs of one shape; scores
 * {@code [batch, heads, from, to]} and an adder {@code [batch, 1, from, to]}) and fails with a clear error otherwise,
 * so a wrong gradient cannot result. The op classes have names of their own; {@link #registerForLoading()} lets a saved
 * graph find them.
 * <p><b>Guarded by:</b> {@code LeanAddGradientsTest} (forward vs TF, gradients vs finite differences before and after
 * save and load, the inputs released before backprop, the shape checks) and {@code BertParityTest}.
 * <p><b>Remove when:</b> a newer ND4J's {@code biasadd_bp}/{@code add_bp} gradients no longer hold the forward inputs
 * (or its session releases them by shape); then drop this rewrite (the model cache is rebuilt) and the registration.
 */
public final class LeanAddGradients implements GraphRewrite {
    /** Saved graphs name the classes' ops by these, with op number 0 (no libnd4j op has these names). */
    static final String BIAS_ADD = "bertclf_matrix_biasadd";
    static final String SAME_SHAPE_ADD = "bertclf_same_shape_add";
    static final String MASK_ADD = "bertclf_attention_mask_add";

    static {
        register();
    }

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, s -> biasAdds(s) + adds(s) + maskAdds(s));
    }

    @Override
    public int version() {
        return 2; // 2: the attention mask's adds
    }

    private static int biasAdds(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!(op.getOp() instanceof BiasAdd b) || op.getInputsToOp().size() != 2
                    || op.getOutputsOfOp().size() != 1 || (b.bArgs().length > 0 && b.bArgs()[0])
                    || !(producer(sd, op.getInputsToOp().get(0)) instanceof Mmul)) {
                continue; // NCHW bias adds and inputs of unknown rank keep ND4J's op
            }
            SDVariable x = sd.getVariable(op.getInputsToOp().get(0));
            SDVariable bias = sd.getVariable(op.getInputsToOp().get(1));
            if (x.dataType() != DataType.FLOAT) {
                continue;
            }
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), new MatrixBiasAdd(sd, x, bias).outputVariable());
            changed++;
        }
        return changed;
    }

    private static int adds(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!(op.getOp() instanceof AddOp) || op.getInputsToOp().size() != 2 || op.getOutputsOfOp().size() != 1
                    || !sd.getOps().containsKey(op.getName())) {
                continue;
            }
            List<String> in = op.getInputsToOp();
            if (!(producer(sd, in.get(0)) instanceof MatrixBiasAdd)
                    && !(producer(sd, in.get(1)) instanceof MatrixBiasAdd)) {
                continue; // only where one side is a dense layer's [rows, n] output (the residuals)
            }
            SDVariable a = sd.getVariable(in.get(0));
            SDVariable b = sd.getVariable(in.get(1));
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), new SameShapeAdd(sd, a, b).outputVariable());
            changed++;
        }
        return changed;
    }

    /** The adds whose only reader is a softmax: BERT's attention scores plus the mask's adder. */
    private static int maskAdds(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!(op.getOp() instanceof AddOp) || op.getInputsToOp().size() != 2 || op.getOutputsOfOp().size() != 1
                    || !sd.getOps().containsKey(op.getName())) {
                continue;
            }
            List<String> readers = sd.getVariables().get(op.getOutputsOfOp().get(0)).getInputsForOp();
            if (readers == null || readers.size() != 1
                    || !(sd.getOps().get(readers.get(0)).getOp() instanceof SoftMax)) {
                continue;
            }
            SDVariable scores = sd.getVariable(op.getInputsToOp().get(0));
            SDVariable adder = sd.getVariable(op.getInputsToOp().get(1));
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), new MaskAdd(sd, scores, adder).outputVariable());
            changed++;
        }
        return changed;
    }

    private static Object producer(SameDiff sd, String variable) {
        String op = sd.getVariables().get(variable).getOutputOfOp();
        return op == null ? null : sd.getOps().get(op).getOp();
    }

    /**
     * Lets {@code SameDiff.load} recreate these op classes from a saved graph, which names them with op number 0.
     * Idempotent.
     */
    @Override
    public void registerForLoading() {
        register();
    }

    private static void register() {
        OneOutputOp.register(BIAS_ADD, MatrixBiasAdd.class);
        OneOutputOp.register(SAME_SHAPE_ADD, SameShapeAdd.class);
        OneOutputOp.register(MASK_ADD, MaskAdd.class);
    }

    /** libnd4j's {@code biasadd} of {@code x [rows, n]} and {@code bias [n]}; gradients: g, g's column sums. */
    public static final class MatrixBiasAdd extends RenamedKernelOp {
        /** For ND4J's deserialisation. */
        public MatrixBiasAdd() {
        }

        public MatrixBiasAdd(SameDiff sd, SDVariable x, SDVariable bias) {
            super(sd, x, bias);
        }

        @Override
        public String opName() {
            return BIAS_ADD;
        }

        @Override
        String kernel() {
            return "biasadd";
        }

        @Override
        void check(List<INDArray> inputs) {
            INDArray x = inputs.get(0);
            INDArray bias = inputs.get(1);
            if (x.rank() != 2 || bias.rank() != 1 || x.size(1) != bias.size(0)) {
                throw new IllegalStateException(getOwnName() + ": a dense layer's bias add expects [rows, n] and [n],"
                        + " got " + Arrays.toString(x.shape()) + " and " + Arrays.toString(bias.shape()));
            }
        }

        /** The bias gradient, g's column sums, as a GEMM ({@link RenamedKernelOp#columnSums}). */
        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            SDVariable g = gradients.get(0);
            return List.of(g, columnSums(g, sameDiff.onesLike(g.get(SDIndex.all(), SDIndex.interval(0, 1)))));
        }
    }

    /** libnd4j's {@code add} of two arrays of one shape; both gradients are the incoming one. */
    public static final class SameShapeAdd extends RenamedKernelOp {
        /** For ND4J's deserialisation. */
        public SameShapeAdd() {
        }

        public SameShapeAdd(SameDiff sd, SDVariable a, SDVariable b) {
            super(sd, a, b);
        }

        @Override
        public String opName() {
            return SAME_SHAPE_ADD;
        }

        @Override
        String kernel() {
            return "add";
        }

        @Override
        void check(List<INDArray> inputs) {
            INDArray a = inputs.get(0);
            INDArray b = inputs.get(1);
            if (!Arrays.equals(a.shape(), b.shape()) || a.dataType() != b.dataType()) {
                throw new IllegalStateException(getOwnName() + ": an add rewritten for inputs of one shape got "
                        + Arrays.toString(a.shape()) + " " + a.dataType() + " and " + Arrays.toString(b.shape())
                        + " " + b.dataType());
            }
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            SDVariable g = gradients.get(0);
            return List.of(g, g);
        }
    }

    /**
     * libnd4j's {@code add} of BERT's attention scores {@code [batch, heads, from, to]} and the mask's adder
     * {@code [batch, 1, from, to]}, broadcast over the heads; gradients: the incoming one, and its sums over the heads.
     */
    public static final class MaskAdd extends RenamedKernelOp {
        /** For ND4J's deserialisation. */
        public MaskAdd() {
        }

        public MaskAdd(SameDiff sd, SDVariable scores, SDVariable adder) {
            super(sd, scores, adder);
        }

        @Override
        public String opName() {
            return MASK_ADD;
        }

        @Override
        String kernel() {
            return "add";
        }

        @Override
        void check(List<INDArray> inputs) {
            INDArray scores = inputs.get(0);
            INDArray adder = inputs.get(1);
            if (scores.rank() != 4 || adder.rank() != 4 || adder.size(1) != 1 || adder.size(0) != scores.size(0)
                    || adder.size(2) != scores.size(2) || adder.size(3) != scores.size(3)
                    || scores.dataType() != adder.dataType()) {
                throw new IllegalStateException(getOwnName() + ": an attention mask add expects [batch, heads, from,"
                        + " to] and [batch, 1, from, to] of one type, got " + Arrays.toString(scores.shape()) + " "
                        + scores.dataType() + " and " + Arrays.toString(adder.shape()) + " " + adder.dataType());
            }
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            SDVariable g = gradients.get(0);
            return List.of(g, g.sum(true, 1));
        }
    }
}
