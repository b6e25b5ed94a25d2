package dev.bertclf.graph;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Replaces part of a SameDiff graph: ND4J 1.0.0-M2.1 has no public API to rewire an op's consumers, so this edits
 * the graph's op and variable tables (consumers' input lists, variables' consumer lists) directly.
 */
public final class GraphSurgery {
    private GraphSurgery() {
    }

    /**
     * Runs a rewrite with eager mode off, restoring it after: the importer leaves eager mode on, where each new op
     * would be computed on the spot (and fail on activations, which have no arrays outside a run).
     *
     * @return what the rewrite returns (how many ops it changed)
     */
    public static int withoutEagerMode(SameDiff sd, ToIntFunction<SameDiff> rewrite) {
        boolean eager = sd.isEagerMode();
        sd.disableEagerMode();
        try {
            return rewrite.applyAsInt(sd);
        } finally {
            if (eager) {
                sd.enableEagerMode();
            }
        }
    }

    /**
     * Makes {@code replacement} take the place of the variable {@code old}: every op that read {@code old} reads
     * {@code replacement}, the ops and constants that only fed {@code old} are removed, and {@code replacement}
     * takes the name {@code old} had.
     */
    public static void replace(SameDiff sd, String old, SDVariable replacement) {
        rewireConsumers(sd, old, replacement);
        removeIfUnused(sd, old);
        sd.renameVariable(replacement.name(), old);
    }

    /**
     * Makes every op that read the variable {@code old} read {@code replacement} instead; {@code old} and what
     * computes it stay in the graph, unread (a pass computes only what its outputs need).
     */
    public static void rewireConsumers(SameDiff sd, String old, SDVariable replacement) {
        Variable oldVar = sd.getVariables().get(old);
        Variable newVar = sd.getVariables().get(replacement.name());
        List<String> consumers = oldVar.getInputsForOp() == null ? List.of() : List.copyOf(oldVar.getInputsForOp());
        for (String consumer : new java.util.LinkedHashSet<>(consumers)) {
            SameDiffOp op = sd.getOps().get(consumer);
            List<String> inputs = new ArrayList<>(op.getInputsToOp());
            for (int i = 0; i < inputs.size(); i++) {
                if (inputs.get(i).equals(old)) {
                    inputs.set(i, replacement.name());
                    if (newVar.getInputsForOp() == null) {
                        newVar.setInputsForOp(new ArrayList<>());
                    }
                    newVar.getInputsForOp().add(consumer);
                }
            }
            op.setInputsToOp(inputs);
        }
        oldVar.setInputsForOp(new ArrayList<>());
    }

    /**
     * Removes a variable that no op reads, with its producing op once none of that op's outputs is read, and so on
     * up through the op's inputs. Placeholders, trainable variables and graph outputs stay.
     */
    public static void removeIfUnused(SameDiff sd, String name) {
        Variable v = sd.getVariables().get(name);
        if (v == null || consumed(v) || sd.getLossVariables().contains(name)) {
            return;
        }
        VariableType type = v.getVariable().getVariableType();
        if (type == VariableType.PLACEHOLDER || type == VariableType.VARIABLE) {
            return;
        }
        String producer = v.getOutputOfOp();
        if (producer == null) {
            if (type == VariableType.CONSTANT) {
                sd.getVariables().remove(name);
                if (sd.getConstantArrays().hasArray(name)) {
                    sd.getConstantArrays().removeArray(name);
                }
            }
            return;
        }
        SameDiffOp op = sd.getOps().get(producer);
        for (String out : op.getOutputsOfOp()) {
            if (consumed(sd.getVariables().get(out))) {
                return;
            }
        }
        sd.getOps().remove(producer);
        for (String out : op.getOutputsOfOp()) {
            sd.getVariables().remove(out);
        }
        for (String in : op.getInputsToOp()) {
            Variable iv = sd.getVariables().get(in);
            if (iv != null && iv.getInputsForOp() != null) {
                iv.getInputsForOp().removeIf(producer::equals);
            }
            removeIfUnused(sd, in);
        }
    }

    private static boolean consumed(Variable v) {
        return v != null && ((v.getInputsForOp() != null && !v.getInputsForOp().isEmpty())
                || (v.getControlDepsForOp() != null && !v.getControlDepsForOp().isEmpty())
                || (v.getControlDepsForVar() != null && !v.getControlDepsForVar().isEmpty()));
    }
}
