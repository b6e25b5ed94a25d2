package dev.bertclf.train;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Times each training step of SameDiff's {@code fit}, runs {@code System.gc()}, then hands the step to a
 * callback. The collection is needed because ND4J 1.0.0-M2.1 frees the off-heap memory of a step's arrays only
 * when their Java objects are collected: without it, off-heap memory grows step by step. Shared by the trainer and
 * the benchmarks.
 */
public final class StepTimer extends BaseListener {
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
    public boolean isActive(Operation operation) {
        return operation == Operation.TRAINING;
    }

    @Override
    public void iterationStart(SameDiff sd, At at, MultiDataSet data, long etlMs) {
        start = System.nanoTime();
    }

    @Override
    public void iterationDone(SameDiff sd, At at, MultiDataSet data, Loss loss) {
        double seconds = (System.nanoTime() - start) / 1e9;
        System.gc();
        callback.done(seconds, data, loss);
    }
}
