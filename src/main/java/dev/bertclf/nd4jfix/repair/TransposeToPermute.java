package dev.bertclf.nd4jfix.repair;

import dev.bertclf.graph.GraphRewrite;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.impl.shape.Permute;
import org.nd4j.linalg.api.ops.impl.shape.Transpose;

import java.util.ArrayList;
import java.util.List;

/**
 * Replaces each two-input {@code Transpose} by a {@link Permute} with the same name, inputs and outputs; Permute's
 * gradient inverts the permutation input.
 *
 * <p><b>Symptom:</b> training BERT fails at the first step: {@code matmul_bp ... input shapes are inconsistent}
 * (a gradient of shape {@code [64,12,128,2]}).
 * <p><b>Cause:</b> an imported {@code Transpose} whose permutation is a second input back-propagates as a full
 * reverse transpose: {@code createGradFunction} clones ops through {@code FlatBuffersMapper.cloneViaSerialize},
 * which drops {@code permuteDims}.
 * <p><b>Guarded by:</b> {@code TransposeToPermuteTest}, and every training test.
 * <p><b>Remove when:</b> a newer ND4J keeps the permutation when cloning: {@code TransposeToPermuteTest}'s gradient
 * case passes without this rewrite.
 */
public final class TransposeToPermute implements GraphRewrite {
    @Override
    public int apply(SameDiff sd) {
        List<SameDiffOp> targets = new ArrayList<>();
        for (SameDiffOp op : sd.getOps().values()) {
            DifferentialFunction f = op.getOp();
            if (f instanceof Transpose && !(f instanceof Permute) && op.getInputsToOp() != null
                    && op.getInputsToOp().size() == 2) {
                targets.add(op);
            }
        }
        for (SameDiffOp op : targets) {
            Permute permute = new Permute();
            permute.setSameDiff(sd);
            permute.setOwnName(op.getName());
            op.setOp(permute);
        }
        return targets.size();
    }
}
