package dev.bertclf.train;

import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Linear decay from {@code initialValue} at iteration 0 to 0 at {@code totalIterations}, per iteration.
 * (ND4J 1.0.0-M2.1's PolySchedule computes {@code (1 + i/max)^p}: with power 1 it grows instead of decaying.)
 */
public final class LinearDecaySchedule implements ISchedule {
    private final double initialValue;
    private final int totalIterations;

    public LinearDecaySchedule(@JsonProperty("initialValue") double initialValue,
                               @JsonProperty("totalIterations") int totalIterations) {
        if (totalIterations < 1) {
            throw new IllegalArgumentException("totalIterations must be positive: " + totalIterations);
        }
        this.initialValue = initialValue;
        this.totalIterations = totalIterations;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        return iteration >= totalIterations ? 0 : initialValue * (1.0 - iteration / (double) totalIterations);
    }

    @Override
    public ISchedule clone() {
        return new LinearDecaySchedule(initialValue, totalIterations);
    }

    @JsonProperty("initialValue")
    public double initialValue() {
        return initialValue;
    }

    @JsonProperty("totalIterations")
    public int totalIterations() {
        return totalIterations;
    }
}
