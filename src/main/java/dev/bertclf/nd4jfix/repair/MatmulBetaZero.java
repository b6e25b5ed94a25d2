package dev.bertclf.nd4jfix.repair;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.graph.GraphSurgery;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;

import java.util.ArrayList;

/**
 * Replaces each imported {@code matmul} whose beta is not 0 by the same product with beta = 0, which is what TF's
 * {@code MatMul} and {@code BatchMatMulV2} compute ({@code out = A·B}).
 *
 * <p><b>Symptom:</b> BERT's attention products add into whatever their output array held: right only where the
 * array arrives filled with zeros, wrong wherever it is reused ({@code speed.OutputArrayReuse} had to zero them) or
 * allocated without zeroing ({@code speed.UnfilledBuffers}).
 * <p><b>Cause:</b> M2.1's TF importer gives both of the attention's {@code BatchMatMulV2} products the arguments
 * alpha = 1, beta = 1 ({@code Mmul} with {@code t[1.0, 1.0]}), so they compute {@code out = A·B + out}; every other
 * imported product has beta = 0.
 * <p><b>Guarded by:</b> {@code MatmulBetaZeroTest} (a TF graph with both attention products: after the rewrite the
 * products have beta 0 and compute TF's values into output arrays filled with garbage) and {@code BertParityTest}.
 * <p><b>Remove when:</b> a newer ND4J imports {@code BatchMatMulV2} with beta = 0 (the test's first assertion then
 * fails: nothing to rewrite).
 */
public final class MatmulBetaZero implements GraphRewrite {
    @Override
    public int apply(SameDiff sd) {
        return GraphSurgery.withoutEagerMode(sd, MatmulBetaZero::rewrite);
    }

    private static int rewrite(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : new ArrayList<>(sd.getOps().values())) {
            if (!(op.getOp() instanceof Mmul m) || !sd.getOps().containsKey(op.getName())
                    || op.getInputsToOp().size() != 2 || op.getOutputsOfOp().size() != 1) {
                continue;
            }
            double[] t = m.tArgs();
            long[] flags = m.iArgs();
            if (t.length < 2 || t[1] == 0.0 || t[0] != 1.0) {
                continue; // beta already 0, or an alpha TF never imports
            }
            MMulTranspose mt = new MMulTranspose(flag(flags, 0), flag(flags, 1), flag(flags, 2));
            SDVariable product = new Mmul(sd, sd.getVariable(op.getInputsToOp().get(0)),
                    sd.getVariable(op.getInputsToOp().get(1)), mt).outputVariable();
            GraphSurgery.replace(sd, op.getOutputsOfOp().get(0), product);
            changed++;
        }
        return changed;
    }

    private static boolean flag(long[] flags, int i) {
        return flags.length > i && flags[i] != 0;
    }
}
