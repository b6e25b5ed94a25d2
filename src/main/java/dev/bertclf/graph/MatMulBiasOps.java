package dev.bertclf.graph;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ops.impl.broadcast.BiasAdd;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A speed rewrite: a dense layer as TF writes it, {@code BiasAdd(MatMul(x, W), b)} with {@code x [n, in]},
 * {@code W [in, out]} and {@code b [out]} (BERT's Q/K/V, attention output, FFN and pooler layers: 73 in BERT-base),
 * becomes ND4J's fused {@code xw_plus_b}: one op forward instead of two, and a backprop that sums the bias gradient
 * with a plain reduction instead of {@code biasadd_bp}. Only where {@code W} is a weight (variable or constant) of
 * rank 2, {@code b} one of rank 1, the matmul transposes nothing and nothing else reads its output. Same output
 * name; the two ops go.
 */
public final class MatMulBiasOps implements GraphRewrite {

    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, MatMulBiasOps::rewrite);
    }

    private static int rewrite(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            List<String> xwb = sd.getOps().containsKey(op.getName()) ? match(sd, op) : null;
            if (xwb != null) {
                SDVariable dense = sd.nn.linear(sd.getVariable(xwb.get(0)), sd.getVariable(xwb.get(1)),
                        sd.getVariable(xwb.get(2)));
                GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), dense);
                changed++;
            }
        }
        return changed;
    }

    /** {@code [x, W, b]} when {@code biasAdd} is {@code BiasAdd(MatMul(x, W), b)} as described above, else null. */
    private static List<String> match(SameDiff sd, SameDiffOp biasAdd) {
        if (!(biasAdd.getOp() instanceof BiasAdd) || biasAdd.getInputsToOp() == null
                || biasAdd.getInputsToOp().size() != 2) {
            return null;
        }
        Variable product = sd.getVariables().get(biasAdd.getInputsToOp().get(0));
        SameDiffOp matmul = product == null || product.getOutputOfOp() == null ? null
                : sd.getOps().get(product.getOutputOfOp());
        if (matmul == null || !(matmul.getOp() instanceof Mmul mmul) || matmul.getInputsToOp().size() != 2
                || Arrays.stream(mmul.iArgs()).anyMatch(t -> t != 0)
                || product.getInputsForOp() == null || product.getInputsForOp().size() != 1) {
            return null;
        }
        String w = matmul.getInputsToOp().get(1);
        String b = biasAdd.getInputsToOp().get(1);
        return isWeight(sd, w, 2) && isWeight(sd, b, 1) ? List.of(matmul.getInputsToOp().get(0), w, b) : null;
    }

    /** Whether a variable is a trainable or constant array of the given rank. */
    private static boolean isWeight(SameDiff sd, String name, int rank) {
        SDVariable v = sd.getVariable(name);
        return v != null && (v.getVariableType() == VariableType.VARIABLE
                || v.getVariableType() == VariableType.CONSTANT) && v.getArr() != null && v.getArr().rank() == rank;
    }
}
