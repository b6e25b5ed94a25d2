package dev.bertclf.model;

import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.impl.shape.Permute;
import org.nd4j.linalg.api.ops.impl.shape.Transpose;

import java.util.ArrayList;
import java.util.List;

/**
 * An imported {@code Transpose} whose permutation is a second input back-propagates as a full reverse transpose
 * in M2.1 (its permutation is lost when the gradient graph clones the op), so training fails with inconsistent
 * matmul shapes. Replaces each by a {@link Permute} with the same name, inputs and outputs; Permute's gradient
 * inverts the permutation input.
 */
public final class TransposeToPermute implements GraphRepair {
    @Override
    public String name() {
        return "transpose-to-permute";
    }

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
