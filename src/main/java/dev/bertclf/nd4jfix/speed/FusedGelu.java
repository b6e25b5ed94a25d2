package dev.bertclf.nd4jfix.speed;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A speed and memory rewrite that needs a workaround: BERT's GELU, imported as eight elementwise ops
 * ({@code x · 0.5 (1 + tanh(√(2/π) (x + 0.044715 x³)))}: {@code cube}, three scalar multiplies, {@code add},
 * {@code tanh}, {@code add_scalar}, {@code multiply}), becomes one op, {@link GeluOp}, whose gradient
 * ({@link GeluGradientOp}) reads {@code x} alone; {@link OneDnnKernels} runs both on oneDNN's {@code gelu_tanh}
 * kernels, which compute the same formula. Same values to float rounding.
 *
 * <p><b>Symptom:</b> in a 16×128 training step the chain's eight forward and about seven backward ops per layer
 * cost some 180 op executions, each a pass over a {@code [batch · seqLen, 3072]} array, and its backprop keeps three
 * such arrays per layer to the end of the forward pass ({@code x}, {@code √(2/π) (x + 0.044715 x³)} for
 * {@code tanh_bp} and {@code 0.5 (1 + tanh)} for {@code multiply_bp}). Fused, a 16×128 full fine-tuning step of
 * BERT-base is faster with a lower memory peak, and so is a forward pass (figures: docs/performance.md).
 * <p><b>Cause:</b> ND4J 1.0.0-M2.1 has no op with BERT's formula ({@code GELU} is the sigmoid approximation, and
 * {@code PreciseGELU} computes {@code x + (0.044715 x)³} inside the tanh), so the importer keeps TF's pieces, each
 * differentiated on its own. An op of our own has no libnd4j kernel, so it runs only where {@link OneDnnKernels} is
 * installed; the loader of saved graphs calls {@link #expandUnlessOneDnn}, which turns it back into ND4J's eight
 * ops everywhere else (the CUDA backend, or oneDNN's library missing).
 * <p><b>Guarded by:</b> {@code FusedGeluTest} (BERT's GELU built in TF: the rewritten graph against TF, its gradient
 * against finite differences and the unrewritten graph's, after save and load; that oneDNN computed it; the
 * expanded graph against TF) and {@code BertParityTest}.
 * <p><b>Remove when:</b> a newer ND4J imports BERT's GELU as one op with a gradient from {@code x}.
 */
public final class FusedGelu implements GraphRewrite {
    /** Saved graphs name the ops by these, with op number 0 (no libnd4j op has these names). */
    static final String GELU = "bertclf_gelu_tanh";
    static final String GELU_BP = "bertclf_gelu_tanh_bp";
    /** The formula's constants, as TF's float32 graph holds them. */
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double CUBE_COEFFICIENT = 0.044715;

    static {
        register();
    }

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, FusedGelu::fuse);
    }

    /** Lets {@code SameDiff.load} recreate the op classes from a saved graph. Idempotent. */
    @Override
    public void registerForLoading() {
        register();
    }

    private static void register() {
        OneOutputOp.register(GELU, GeluOp.class);
        OneOutputOp.register(GELU_BP, GeluGradientOp.class);
    }

    /**
     * Where {@link OneDnnKernels} is not installed, replaces every {@link GeluOp} of a loaded graph by ND4J's eight
     * ops of the same formula; returns how many.
     */
    public static int expandUnlessOneDnn(SameDiff sd) {
        if (OneDnnKernels.install()) {
            return 0;
        }
        return expand(sd);
    }

    static int expand(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, g -> {
            int changed = 0;
            for (SameDiffOp op : new ArrayList<>(g.getOps().values())) {
                if (op.getOp() instanceof GeluOp && g.getOps().containsKey(op.getName())) {
                    SDVariable x = g.getVariable(op.getInputsToOp().get(0));
                    SDVariable z = g.math().cube(x).mul(CUBE_COEFFICIENT).add(x).mul(SQRT_2_OVER_PI);
                    SDVariable gelu = x.mul(g.math().tanh(z).add(1.0).mul(0.5));
                    GraphSurgery.replace(g, op.getOutputsOfOp().get(0), gelu);
                    changed++;
                }
            }
            return changed;
        });
    }

    private static int fuse(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!sd.getOps().containsKey(op.getName()) || !"multiply".equals(op.getOp().opName())
                    || op.getInputsToOp().size() != 2 || op.getOutputsOfOp().size() != 1) {
                continue;
            }
            for (int cdfAt = 0; cdfAt < 2; cdfAt++) {
                String x = op.getInputsToOp().get(1 - cdfAt);
                if (sd.getVariable(x).dataType() == DataType.FLOAT
                        && isGeluOf(sd, x, op.getInputsToOp().get(cdfAt))) {
                    SDVariable gelu = new GeluOp(sd, sd.getVariable(x)).outputVariable();
                    GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), gelu);
                    changed++;
                    break;
                }
            }
        }
        return changed;
    }

    /** Whether {@code cdf} is {@code 0.5 (1 + tanh(√(2/π) (x + 0.044715 x³)))}, no piece of it read elsewhere. */
    private static boolean isGeluOf(SameDiff sd, String x, String cdf) {
        String u = scalarOpInput(sd, cdf, "mul_scalar", 0.5);
        String t = u == null ? null : scalarOpInput(sd, u, "add_scalar", 1.0);
        String z = t == null ? null : soleInput(sd, t, "tanh");
        String s = z == null ? null : scalarOpInput(sd, z, "mul_scalar", SQRT_2_OVER_PI);
        SameDiffOp add = s == null ? null : producer(sd, s, "add");
        if (add == null || add.getInputsToOp().size() != 2 || !add.getInputsToOp().contains(x)) {
            return false;
        }
        String a = add.getInputsToOp().get(add.getInputsToOp().get(0).equals(x) ? 1 : 0);
        String k = scalarOpInput(sd, a, "mul_scalar", CUBE_COEFFICIENT);
        return k != null && x.equals(soleInput(sd, k, "cube"));
    }

    /** The op of type {@code opName} that makes {@code v}, if {@code v} is its only output and one op reads it. */
    private static SameDiffOp producer(SameDiff sd, String v, String opName) {
        Variable var = sd.getVariables().get(v);
        if (var == null || var.getOutputOfOp() == null || var.getInputsForOp() == null
                || var.getInputsForOp().size() != 1 || sd.getLossVariables().contains(v)) {
            return null;
        }
        SameDiffOp op = sd.getOps().get(var.getOutputOfOp());
        return op != null && opName.equals(op.getOp().opName()) && op.getOutputsOfOp().size() == 1 ? op : null;
    }

    private static String soleInput(SameDiff sd, String v, String opName) {
        SameDiffOp op = producer(sd, v, opName);
        return op == null || op.getInputsToOp().size() != 1 ? null : op.getInputsToOp().get(0);
    }

    /** The input of the scalar op making {@code v}, if it is {@code opName} with a scalar of {@code value}. */
    private static String scalarOpInput(SameDiff sd, String v, String opName, double value) {
        SameDiffOp op = producer(sd, v, opName);
        if (op == null || !(op.getOp() instanceof ScalarOp scalarOp) || scalarOp.scalar() == null
                || op.getInputsToOp().size() != 1) {
            return null;
        }
        // TF's constants are float32: 0.7978846 for √(2/π)
        return Math.abs(scalarOp.scalar().getDouble(0) - value) <= 1e-6 * Math.max(1, value)
                ? op.getInputsToOp().get(0) : null;
    }

    /** {@code y = gelu(x)} computed with ND4J's elementwise ops, where oneDNN does not take the arrays. */
    static void forwardWithNd4j(INDArray x, INDArray y) {
        INDArray t = Transforms.tanh(x.mul(x).muli(x).muli(CUBE_COEFFICIENT).addi(x).muli(SQRT_2_OVER_PI), false);
        y.assign(t.addi(1.0).muli(0.5).muli(x));
    }

    /** {@code dx = g · gelu'(x)} computed with ND4J's elementwise ops, where oneDNN does not take the arrays. */
    static void backwardWithNd4j(INDArray x, INDArray g, INDArray dx) {
        INDArray x2 = x.mul(x);
        INDArray t = Transforms.tanh(x2.mul(x).muli(CUBE_COEFFICIENT).addi(x).muli(SQRT_2_OVER_PI), false);
        // d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 - t²) √(2/π) (1 + 3 · 0.044715 x²)
        INDArray inner = x2.muli(3 * CUBE_COEFFICIENT).addi(1.0).muli(SQRT_2_OVER_PI).muli(x).muli(0.5)
                .muli(t.mul(t).rsubi(1.0));
        dx.assign(t.addi(1.0).muli(0.5).addi(inner).muli(g));
    }

    /** One output of input 0's shape; checks that every input has that shape. */
    private abstract static class ElementwiseOp extends OneOutputOp {
        ElementwiseOp() {
        }

        ElementwiseOp(SameDiff sd, SDVariable... inputs) {
            super(sd, inputs);
        }

        @Override
        public long opHash() {
            throw new IllegalStateException(opName() + " (" + getOwnName() + ") has no libnd4j kernel: it runs on"
                    + " oneDNN (OneDnnKernels); a graph loaded without them must be expanded by"
                    + " FusedGelu.expandUnlessOneDnn first");
        }

        @Override
        public List<LongShapeDescriptor> calculateOutputShape(OpContext oc) {
            INDArray a = oc.getInputArray(0);
            for (INDArray other : oc.getInputArrays()) {
                if (!other.equalShapes(a)) {
                    throw new IllegalStateException(getOwnName() + ": " + opName() + " expects inputs of one shape,"
                            + " got " + Arrays.toString(a.shape()) + " and " + Arrays.toString(other.shape()));
                }
            }
            return List.of(LongShapeDescriptor.fromShape(a.shape(), a.dataType()));
        }
    }

    /** {@code gelu(x)} of {@code x [...]}, BERT's formula; its gradient reads {@code x} alone. */
    public static final class GeluOp extends ElementwiseOp {
        /** For ND4J's deserialisation. */
        public GeluOp() {
        }

        public GeluOp(SameDiff sd, SDVariable x) {
            super(sd, x);
        }

        @Override
        public String opName() {
            return GELU;
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            return List.of(new GeluGradientOp(sameDiff, arg(0), gradients.get(0)).outputVariable());
        }
    }

    /** {@code g · gelu'(x)} of {@code x [...]} and the output's gradient {@code g}, of {@code x}'s shape. */
    public static final class GeluGradientOp extends ElementwiseOp {
        /** For ND4J's deserialisation. */
        public GeluGradientOp() {
        }

        public GeluGradientOp(SameDiff sd, SDVariable x, SDVariable g) {
            super(sd, x, g);
        }

        @Override
        public String opName() {
            return GELU_BP;
        }

        @Override
        public List<SDVariable> doDiff(List<SDVariable> gradients) {
            throw new UnsupportedOperationException("second derivatives of GELU are not needed here");
        }
    }
}
