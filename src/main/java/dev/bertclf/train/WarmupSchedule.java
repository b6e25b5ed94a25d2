package dev.bertclf.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Google BERT's learning rate: linear warm-up from 0 to {@code peak} over {@code warmupSteps}, then (with
 * {@code decay}) linear decay reaching 0 at {@code totalSteps}; without decay it stays at {@code peak}.
 *
 * <p>Written here because ND4J 1.0.0-M2.1's own schedules do not do the job: PolySchedule grows instead of
 * decaying ({@code (1 + i/max)^p}), and RampSchedule cannot be read back from a saved model (no JSON creator), so
 * a checkpoint using it cannot be resumed.
 */
public final class WarmupSchedule implements ISchedule {
    private final double peak;
    private final int warmupSteps;
    private final int totalSteps;
    private final boolean decay;

    public WarmupSchedule(@JsonProperty("peak") double peak, @JsonProperty("warmupSteps") int warmupSteps,
                          @JsonProperty("totalSteps") int totalSteps, @JsonProperty("decay") boolean decay) {
        if (totalSteps < 1 || warmupSteps < 0) {
            throw new IllegalArgumentException("need totalSteps >= 1 and warmupSteps >= 0: " + totalSteps + ", "
                    + warmupSteps);
        }
        this.peak = peak;
        this.warmupSteps = warmupSteps;
        this.totalSteps = totalSteps;
        this.decay = decay;
    }

    /** Rate for the step with 0-based index {@code iteration}. */
    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < warmupSteps) {
            return peak * (iteration + 1) / warmupSteps;
        }
        return decay ? peak * Math.max(0.0, 1.0 - iteration / (double) totalSteps) : peak;
    }

    @Override
    public ISchedule clone() {
        return new WarmupSchedule(peak, warmupSteps, totalSteps, decay);
    }

    @JsonProperty("peak")
    public double peak() {
        return peak;
    }

    @JsonProperty("warmupSteps")
    public int warmupSteps() {
        return warmupSteps;
    }

    @JsonProperty("totalSteps")
    public int totalSteps() {
        return totalSteps;
    }

    @JsonProperty("decay")
    public boolean decay() {
        return decay;
    }
}
