package dev.bertclf.train;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.model.ModelException;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A checkpoint's arrays: the trained weights and the optimizer state of a classifier graph, taken from it for
 * {@link TrainingState#save} and put back into a freshly built graph on resume, after checking that the checkpoint
 * holds every weight and its optimizer state.
 */
public final class CheckpointRestore {
    private static final String STATE_SEPARATOR = "::";

    private CheckpointRestore() {
    }

    /** The trainable weights of a graph, by name. */
    static Map<String, INDArray> weights(SameDiff sd) {
        Map<String, INDArray> w = new TreeMap<>();
        for (String name : trainable(sd)) {
            w.put(name, sd.getVariable(name).getArr());
        }
        return w;
    }

    /** The optimizer's state arrays of every trained weight, by {@code <weight>::<state key>}. */
    static Map<String, INDArray> optimizerState(SameDiff sd) {
        Map<String, INDArray> state = new TreeMap<>();
        if (sd.getUpdaterMap() != null) {
            sd.getUpdaterMap().forEach((name, updater) -> {
                Map<String, INDArray> s = updater.getState();
                if (s != null) {
                    s.forEach((key, arr) -> state.put(name + STATE_SEPARATOR + key, arr));
                }
            });
        }
        return state;
    }

    /**
     * Copies a checkpoint folder's weights and optimizer state into {@code fresh}, whose training config must be
     * set: the optimizer is rebuilt from it around the saved state.
     */
    public static void restore(SameDiff fresh, Path checkpoint) {
        Path weightsFile = checkpoint.resolve(TrainingState.WEIGHTS);
        Map<String, INDArray> saved = ArrayFile.read(weightsFile);
        Set<String> expected = trainable(fresh);
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(saved.keySet());
        if (!missing.isEmpty()) {
            throw new ModelException("Checkpoint " + weightsFile + " does not match the model of this run: no "
                    + missing.size() + " of its weights, e.g. " + missing.iterator().next());
        }
        for (String name : expected) {
            fresh.getVariable(name).getArr().assign(saved.get(name));
            saved.get(name).close();
        }
        Engine.restoreOptimizerState(fresh, updaters(fresh, checkpoint.resolve(TrainingState.OPTIMIZER), expected));
    }

    private static Map<String, GradientUpdater> updaters(SameDiff fresh, Path file, Set<String> expected) {
        Map<String, Map<String, INDArray>> byWeight = new HashMap<>();
        ArrayFile.read(file).forEach((key, arr) -> {
            int at = key.lastIndexOf(STATE_SEPARATOR);
            byWeight.computeIfAbsent(key.substring(0, at), k -> new HashMap<>())
                    .put(key.substring(at + STATE_SEPARATOR.length()), arr);
        });
        Set<String> noState = new TreeSet<>(expected);
        noState.removeAll(byWeight.keySet());
        if (!noState.isEmpty()) {
            throw new ModelException("Checkpoint " + file + " has no optimizer state for " + noState.size()
                    + " weights, e.g. " + noState.iterator().next() + " (state for " + byWeight.size() + " weights)");
        }
        IUpdater config = fresh.getTrainingConfig().getUpdater();
        Map<String, GradientUpdater> updaters = new LinkedHashMap<>();
        for (String name : expected) {
            updaters.put(name, config.instantiate(byWeight.get(name), false));
        }
        return updaters;
    }

    private static Set<String> trainable(SameDiff sd) {
        Set<String> names = new TreeSet<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE && v.dataType().isFPType()) {
                names.add(v.name());
            }
        }
        return names;
    }
}
