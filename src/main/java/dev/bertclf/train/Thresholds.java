package dev.bertclf.train;

import dev.bertclf.config.Settings;
import dev.bertclf.model.Task;

import java.util.Arrays;

/**
 * Per-label decision thresholds for multi-label classification, tuned on validation data: for each label, the
 * threshold that maximises that label's F1 when a text carries the label if its probability is at least the
 * threshold. Candidates are {@code fallback} and the midpoints between consecutive distinct probabilities of the
 * label (and the ends), so a chosen threshold sits between the texts it separates; among equal F1s the one nearest
 * {@code fallback} wins. A label without a positive validation text keeps {@code fallback}.
 */
public final class Thresholds {
    private Thresholds() {
    }

    /**
     * The task as {@code setting} wants it for the probabilities {@code validation} gave: {@code provisional} (its
     * thresholds all {@code setting.value()}), or, for "tuned", each label's threshold tuned on them. Single-label
     * tasks are returned as they are.
     */
    public static Task decide(Settings.Threshold setting, Task provisional, Evaluator.Scores validation) {
        if (!provisional.multiLabel() || !setting.tuned() || validation.probabilities().length == 0) {
            return provisional;
        }
        return Task.multiLabel(provisional.labels(),
                tune(validation.probabilities(), validation.truth(), setting.value()));
    }

    /** One threshold per label of {@code probabilities[text][label]} against {@code truth[text][label]}. */
    public static double[] tune(float[][] probabilities, boolean[][] truth, double fallback) {
        int labels = probabilities.length == 0 ? 0 : probabilities[0].length;
        double[] chosen = new double[labels];
        for (int j = 0; j < labels; j++) {
            chosen[j] = tuneOne(probabilities, truth, j, fallback);
        }
        return chosen;
    }

    private static double tuneOne(float[][] p, boolean[][] truth, int j, double fallback) {
        int positives = 0;
        double[] values = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            values[i] = p[i][j];
            positives += truth[i][j] ? 1 : 0;
        }
        if (positives == 0) {
            return fallback;
        }
        double[] distinct = Arrays.stream(values).distinct().sorted().toArray();
        double best = fallback;
        double bestF1 = f1(p, truth, j, fallback);
        for (int k = 0; k <= distinct.length; k++) {
            double t = k == 0 ? distinct[0] / 2 : k == distinct.length ? (distinct[k - 1] + 1) / 2
                    : (distinct[k - 1] + distinct[k]) / 2;
            double f1 = f1(p, truth, j, t);
            if (f1 > bestF1 + 1e-12 || (Math.abs(f1 - bestF1) <= 1e-12
                    && Math.abs(t - fallback) < Math.abs(best - fallback))) {
                best = t;
                bestF1 = f1;
            }
        }
        return best;
    }

    /** Label {@code j}'s F1 at threshold {@code t} (probability ≥ t: the label is predicted). */
    static double f1(float[][] p, boolean[][] truth, int j, double t) {
        int tp = 0;
        int fp = 0;
        int fn = 0;
        for (int i = 0; i < p.length; i++) {
            boolean predicted = p[i][j] >= t;
            tp += predicted && truth[i][j] ? 1 : 0;
            fp += predicted && !truth[i][j] ? 1 : 0;
            fn += !predicted && truth[i][j] ? 1 : 0;
        }
        return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }
}
