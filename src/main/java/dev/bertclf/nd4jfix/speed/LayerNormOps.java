package dev.bertclf.nd4jfix.speed;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;

import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.floating.Mean;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarAdd;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.api.ops.impl.transforms.floating.RSqrt;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SquaredDifferenceOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;

import java.util.ArrayList;
import java.util.List;

/**
 * A speed rewrite: TF's LayerNorm subgraph ({@code tf.contrib.layers.layer_norm}: moments, then
 * {@code x * (gamma * rsqrt(variance + eps)) + (beta - mean * gamma * rsqrt(variance + eps))}, 11 ops) becomes
 * ND4J's fused {@code layer_norm} over the same axis, whose backprop is one op instead of eleven; forward and
 * gradient of a LayerNorm take a fraction of the time of the eleven ops (figures: {@code docs/performance.md}).
 *
 * <p>ND4J's op divides by {@code stdev + 1e-12} where TF multiplies by {@code rsqrt(variance + eps)}: the rewrite
 * applies only where {@code eps <= 1e-9}, where the two differ by less than float rounding for any input whose
 * variance is not itself near zero. It runs after {@link ScalarConstantOps}, which turns {@code variance + eps} into
 * a scalar add. Same output name; the subgraph's ops and constants go.
 */
public final class LayerNormOps implements GraphRewrite {
    static final double MAX_EPSILON = 1e-9;

    /** The parts of one matched LayerNorm: input, scale, offset and the normalized axis. */
    private record Match(String x, String gamma, String beta, int axis) {
    }

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, LayerNormOps::rewrite);
    }

    private static int rewrite(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            Match m = sd.getOps().containsKey(op.getName()) ? match(sd, op) : null;
            if (m != null) {
                SDVariable ln = sd.nn.layerNorm(sd.getVariable(m.x()), sd.getVariable(m.gamma()),
                        sd.getVariable(m.beta()), false, m.axis());
                GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), ln);
                changed++;
            }
        }
        return changed;
    }

    /** {@code out = x * m + (beta - mean * m)}, {@code m = rsqrt(variance + eps) * gamma}, else null. */
    private static Match match(SameDiff sd, SameDiffOp out) {
        List<String> in = inputs(out, AddOp.class, 2);
        SameDiffOp scaled = producer(sd, in == null ? null : in.get(0));
        SameDiffOp shifted = producer(sd, in == null ? null : in.get(1));
        List<String> xm = inputs(scaled, MulOp.class, 2);
        List<String> betaMeanM = inputs(shifted, SubOp.class, 2);
        List<String> meanM = betaMeanM == null ? null : inputs(producer(sd, betaMeanM.get(1)), MulOp.class, 2);
        if (xm == null || meanM == null || !xm.get(1).equals(meanM.get(1))) {
            return null;
        }
        List<String> rsqrtGamma = inputs(producer(sd, xm.get(1)), MulOp.class, 2);
        List<String> varianceEps = rsqrtGamma == null ? null
                : inputs(producer(sd, rsqrtGamma.get(0)), RSqrt.class, 1);
        SameDiffOp addEps = producer(sd, varianceEps == null ? null : varianceEps.get(0));
        if (!(addEps != null && addEps.getOp() instanceof ScalarAdd s && s.scalar().getDouble(0) <= MAX_EPSILON
                && s.scalar().getDouble(0) >= 0)) {
            return null;
        }
        String x = xm.get(0);
        String mean = meanM.get(0);
        Integer axis = meanAxis(sd, producer(sd, mean), x);
        List<String> squares = inputs(producer(sd, addEps.getInputsToOp().get(0)), Mean.class, 2);
        List<String> xStop = squares == null ? null
                : inputs(producer(sd, squares.get(0)), SquaredDifferenceOp.class, 2);
        List<String> stopped = xStop == null ? null : inputs(producer(sd, xStop.get(1)), StopGradient.class, 1);
        if (axis == null || stopped == null || !xStop.get(0).equals(x) || !stopped.get(0).equals(mean)
                || !axis.equals(meanAxis(sd, producer(sd, addEps.getInputsToOp().get(0)), squares.get(0)))
                || !isVector(sd, rsqrtGamma.get(1)) || !isVector(sd, betaMeanM.get(0))) {
            return null;
        }
        return new Match(x, rsqrtGamma.get(1), betaMeanM.get(0), axis);
    }

    /** The inputs of {@code op} when it is of {@code type} with {@code count} inputs, else null. */
    private static List<String> inputs(SameDiffOp op, Class<? extends DifferentialFunction> type, int count) {
        return op != null && type.isInstance(op.getOp()) && op.getInputsToOp() != null
                && op.getInputsToOp().size() == count ? op.getInputsToOp() : null;
    }

    private static SameDiffOp producer(SameDiff sd, String variable) {
        Variable v = variable == null ? null : sd.getVariables().get(variable);
        return v == null || v.getOutputOfOp() == null ? null : sd.getOps().get(v.getOutputOfOp());
    }

    /** The single axis a keep-dims mean of {@code input} reduces over (a constant second input), else null. */
    private static Integer meanAxis(SameDiff sd, SameDiffOp mean, String input) {
        List<String> in = inputs(mean, Mean.class, 2);
        if (in == null || !in.get(0).equals(input) || !((Mean) mean.getOp()).isKeepDims()) {
            return null;
        }
        SDVariable axes = sd.getVariable(in.get(1));
        INDArray a = axes.getVariableType() == VariableType.CONSTANT ? axes.getArr() : null;
        return a != null && a.length() == 1 ? a.getInt(0) : null;
    }

    /** Whether a variable is a constant or trainable vector (LayerNorm's gamma and beta). */
    private static boolean isVector(SameDiff sd, String name) {
        SDVariable v = sd.getVariable(name);
        return v != null && (v.getVariableType() == VariableType.CONSTANT
                || v.getVariableType() == VariableType.VARIABLE) && v.getArr() != null && v.getArr().rank() == 1;
    }
}
