package dev.bertclf.nd4jfix.repair;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.learning.GradientUpdater;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;

/**
 * Installs optimizer state (Adam's moments) read from a checkpoint into a freshly built graph, so that resuming
 * continues the interrupted run exactly.
 *
 * <p><b>Symptom:</b> a graph saved during training cannot be trained again: {@code fit} fails with "Another
 * variable with the name one-var already exists".
 * <p><b>Cause:</b> a graph saved in training carries its gradient function's variables, which M2.1's {@code fit}
 * creates anew. So a resume rebuilds the graph exactly as the run did and puts the checkpoint's weights and
 * optimizer state into it; SameDiff has getters but no setters for that state ({@code updaterMap},
 * {@code initializedTraining}), hence the reflection.
 * <p><b>Guarded by:</b> {@code ResumeAfterKillTest} (a killed and resumed run equals an uninterrupted one, step by
 * step; it fails when the optimizer state is not carried over).
 * <p><b>Remove when:</b> a newer ND4J offers a setter for the updater state.
 */
public final class OptimizerStateTransfer {
    private OptimizerStateTransfer() {
    }

    /** Makes {@code updaters} (by trained variable) the graph's optimizer state, as if it had done the training. */
    public static void install(SameDiff sd, Map<String, GradientUpdater> updaters) {
        set(sd, "updaterMap", new HashMap<>(updaters));
        set(sd, "initializedTraining", true);
    }
    private static void set(SameDiff sd, String field, Object value) {
        try {
            Field f = SameDiff.class.getDeclaredField(field);
            f.setAccessible(true);
            f.set(sd, value);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SameDiff." + field + " not found: unsupported ND4J version", e);
        }
    }
}
