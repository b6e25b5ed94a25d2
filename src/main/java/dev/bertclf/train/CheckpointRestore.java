package dev.bertclf.train;

import dev.bertclf.model.ModelException;
import dev.bertclf.nd4jfix.OptimizerStateTransfer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;

import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * Puts a checkpoint's weights and optimizer state into a freshly built classifier graph, checking first that the
 * checkpoint holds every weight and its optimizer state (a graph saved in training cannot be trained again in
 * ND4J 1.0.0-M2.1: see {@link OptimizerStateTransfer}).
 */
public final class CheckpointRestore {
    private CheckpointRestore() {
    }

    /** Copies the weights and optimizer state of a checkpoint folder's model into {@code fresh}. */
    public static void restore(SameDiff fresh, Path checkpoint) {
        Path checkpointModel = checkpoint.resolve(TrainingState.MODEL);
        SameDiff saved = SameDiff.load(checkpointModel.toFile(), true);
        Set<String> expected = trainable(fresh);
        Set<String> found = trainable(saved); // also holds the gradient function's own variables
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(found);
        if (!missing.isEmpty()) {
            throw new ModelException("Checkpoint " + checkpointModel + " does not match the model of this run: no "
                    + missing.size() + " of its weights, e.g. " + missing.iterator().next());
        }
        for (String name : expected) {
            fresh.getVariable(name).getArr().assign(saved.getVariable(name).getArr());
        }
        if (saved.getUpdaterMap() == null || !saved.getUpdaterMap().keySet().containsAll(expected)) {
            Set<String> noState = new TreeSet<>(expected);
            if (saved.getUpdaterMap() != null) {
                noState.removeAll(saved.getUpdaterMap().keySet());
            }
            throw new ModelException("Checkpoint " + checkpointModel + " has no optimizer state for "
                    + noState.size() + " weights, e.g. " + noState.iterator().next() + " (state for "
                    + (saved.getUpdaterMap() == null ? "none" : saved.getUpdaterMap().keySet()) + ")");
        }
        OptimizerStateTransfer.copy(saved, fresh);
    }

    private static Set<String> trainable(SameDiff sd) {
        Set<String> names = new TreeSet<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                names.add(v.name());
            }
        }
        return names;
    }
}
