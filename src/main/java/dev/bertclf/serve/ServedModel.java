package dev.bertclf.serve;

import dev.bertclf.model.Task;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A model the server can serve: its run's id, its task (labels, and how probabilities become labels), the predictor
 * that runs its forward passes, what {@code /model} says of it, what frees it once swapped out, and what explains its
 * scores (made on first use, on the pass thread; null where it cannot explain).
 */
public record ServedModel(String id, Task task, Predictor predictor, Map<String, Object> info,
                          Runnable release, Supplier<Explaining> explaining) implements AutoCloseable {
    /** A model that does not explain. */
    public ServedModel(String id, Task task, Predictor predictor, Map<String, Object> info, Runnable release) {
        this(id, task, predictor, info, release, null);
    }

    /** A single-label model with nothing to free (tests). */
    public static ServedModel of(String id, List<String> labels, Predictor predictor, Map<String, Object> info) {
        return new ServedModel(id, Task.singleLabel(labels), predictor, info, () -> {
        });
    }

    public List<String> labels() {
        return task.labels();
    }

    String infoString(String key) {
        return String.valueOf(info.getOrDefault(key, ""));
    }

    /** Frees the model; on the pass thread, after its last pass. */
    @Override
    public void close() {
        release.run();
    }
}
