package dev.bertclf.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.model.ModelException;
import dev.bertclf.run.RunFolder;
import org.nd4j.autodiff.samediff.SameDiff;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a run stands: data position, step counts, history and the early-stopping book-keeping. Saved with the
 * model and optimizer state in {@code checkpoint/}, so {@code train.resume} continues a killed run.
 *
 * @param epoch       the epoch in progress (0-based)
 * @param batchesDone batches of that epoch already trained
 * @param bestMetric  best validation metric so far (NaN before the first validation)
 */
public record TrainingState(int epoch, int batchesDone, int globalStep, double bestMetric, int bestEpoch,
                            int badEpochs, List<Step> steps, List<EpochSummary> epochs) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The trained weights, by variable name. */
    static final String WEIGHTS = "weights.bin";
    /** The optimizer's state (Adam's moments), by {@code <variable>::<state key>}. */
    static final String OPTIMIZER = "optimizer.bin";
    static final String STATE = "state.json";

    /** One training step. */
    public record Step(int step, int epoch, double loss, double learningRate, double examplesPerSecond) {
    }

    /** One finished epoch. */
    public record EpochSummary(int epoch, double trainLoss, double validationLoss, double validationAccuracy,
                               double validationF1, double seconds) {
    }

    public static TrainingState start() {
        return new TrainingState(0, 0, 0, Double.NaN, -1, 0, new ArrayList<>(), new ArrayList<>());
    }

    /**
     * Saves the trained weights, the optimizer state and this state into a fresh folder that then replaces
     * {@code checkpoint/} (the previous checkpoint stays intact until the new one is complete). The arrays stream
     * from native memory to the files ({@link ArrayFile}).
     */
    public void save(SameDiff sd, RunFolder run) {
        Path dir = run.file(RunFolder.CHECKPOINT);
        AtomicFiles.deleteRecursively(dir.resolveSibling(RunFolder.CHECKPOINT + ".new"));
        Path fresh = dir.resolveSibling(RunFolder.CHECKPOINT + ".new");
        Path old = dir.resolveSibling(RunFolder.CHECKPOINT + ".old");
        try {
            Files.createDirectories(fresh);
            ArrayFile.write(fresh.resolve(WEIGHTS), CheckpointRestore.weights(sd));
            ArrayFile.write(fresh.resolve(OPTIMIZER), CheckpointRestore.optimizerState(sd));
            // state.json last, whole or absent: it marks the checkpoint complete
            AtomicFiles.write(fresh.resolve(STATE), out -> JSON.writerWithDefaultPrettyPrinter().writeValue(out, this));
            AtomicFiles.syncTree(fresh);
            AtomicFiles.deleteRecursively(old);
            if (Files.exists(dir)) {
                Files.move(dir, old);
            }
            Files.move(fresh, dir);
            AtomicFiles.sync(run.dir());
            AtomicFiles.deleteRecursively(old);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("Cannot write checkpoint in " + run.dir(), e);
        }
    }

    /**
     * The checkpoint folder of a run: {@code checkpoint/}; or, when a kill cut a swap short,
     * {@code checkpoint.old/} (the previous one, moved aside) or a complete {@code checkpoint.new/}. A folder
     * counts only with its {@code state.json}, which is written last, atomically.
     */
    public static Path checkpointOf(RunFolder run) {
        for (String name : List.of(RunFolder.CHECKPOINT, RunFolder.CHECKPOINT + ".old",
                RunFolder.CHECKPOINT + ".new")) {
            Path d = run.file(name);
            if (Files.isRegularFile(d.resolve(STATE)) && Files.isRegularFile(d.resolve(WEIGHTS))
                    && Files.isRegularFile(d.resolve(OPTIMIZER))) {
                return d;
            }
        }
        throw new ModelException("Run folder " + run.dir().toAbsolutePath() + " has no checkpoint to resume from");
    }

    public static TrainingState load(Path checkpoint) {
        try {
            return JSON.readValue(checkpoint.resolve(STATE).toFile(), TrainingState.class);
        } catch (IOException e) {
            throw new ModelException("Cannot read " + checkpoint.resolve(STATE) + ": " + e.getMessage(), e);
        }
    }

    public TrainingState withPosition(int epoch, int batchesDone, int globalStep) {
        return new TrainingState(epoch, batchesDone, globalStep, bestMetric, bestEpoch, badEpochs, steps, epochs);
    }

    public TrainingState withBest(double metric, int bestEpoch, int badEpochs) {
        return new TrainingState(epoch, batchesDone, globalStep, metric, bestEpoch, badEpochs, steps, epochs);
    }
}
