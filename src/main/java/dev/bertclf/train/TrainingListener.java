package dev.bertclf.train;

import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;

/** A SameDiff listener that hears training steps only (not the evaluations SameDiff runs on the side). */
public abstract class TrainingListener extends BaseListener {
    @Override
    public boolean isActive(Operation operation) {
        return operation == Operation.TRAINING;
    }
}
