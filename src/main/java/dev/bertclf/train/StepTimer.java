package dev.bertclf.train;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Times each training step of SameDiff's {@code fit}, then hands the step to a callback. Shared by the trainer and
 * the benchmarks.
 */
public final class StepTimer extends TrainingListener {
    /** Receives each step: the seconds it took (collection excluded), its batch and its loss. */
    @FunctionalInterface
    public interface StepDone {
        void done(double seconds, MultiDataSet data, Loss loss);
    }

    private final StepDone callback;
    private long start;

    public StepTimer(StepDone callback) {
        this.callback = callback;
    }

    @Override
    public void iterationStart(SameDiff sd, At at, MultiDataSet data, long etlMs) {
        start = System.nanoTime();
    }

    @Override
    public void iterationDone(SameDiff sd, At at, MultiDataSet data, Loss loss) {
        double seconds = (System.nanoTime() - start) / 1e9;
        callback.done(seconds, data, loss);
    }
}
