package dev.bertclf.train;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Times each training step of SameDiff's {@code fit} and hands the time to a callback, then runs
 * {@code System.gc()}: ND4J 1.0.0-M2.1 frees the off-heap memory of a step's arrays only when their Java objects
 * are collected, so without it off-heap memory grows step by step.
 */
public final class StepTimer extends BaseListener {
    /** Receives each step: its 1-based number in this fit and the seconds it took. */
    @FunctionalInterface
    public interface StepDone {
        void done(int step, double seconds);
    }

    private final StepDone callback;
    private long start;
    private int steps;

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
        callback.done(++steps, seconds);
        System.gc();
    }
}
