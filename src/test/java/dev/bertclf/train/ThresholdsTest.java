package dev.bertclf.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ThresholdsTest {
    // label 0: positives at 0.9, 0.6, 0.35; negatives at 0.4, 0.2, 0.1
    // label 1: no positive at all
    static final float[][] P = {{0.9f, 0.3f}, {0.6f, 0.2f}, {0.35f, 0.8f}, {0.4f, 0.1f}, {0.2f, 0.6f}, {0.1f, 0.4f}};
    static final boolean[][] TRUTH = {{true, false}, {true, false}, {true, false}, {false, false}, {false, false},
            {false, false}};

    @Test
    void eachLabelGetsTheThresholdWithItsBestF1() {
        // label 0, worked out by hand: at 0.5 (the fallback) tp 2, fn 1 -> F1 4/5; between 0.2 and 0.35 (0.275)
        // tp 3, fp 1 (0.4) -> 6/7; between 0.35 and 0.4 -> 0.375: tp 2 ... so 0.275 is best (6/7 > 4/5), and no
        // threshold reaches 1 (0.35 lies below the negative 0.4)
        double[] t = Thresholds.tune(P, TRUTH, 0.5);
        assertEquals(0.275, t[0], 1e-6);
        assertEquals(6 / 7.0, Thresholds.f1(P, TRUTH, 0, t[0]), 1e-12);
        assertEquals(0.5, t[1], "a label without positives keeps the fallback");
    }

    @Test
    void aPerfectSplitIsFoundAndTiesGoToTheThresholdNearestTheFallback() {
        float[][] p = {{0.9f}, {0.7f}, {0.3f}, {0.1f}};
        boolean[][] truth = {{true}, {true}, {false}, {false}};
        // every threshold in (0.3, 0.7] gives F1 1: the fallback, where it lies there, else the midpoint 0.5
        assertEquals(0.45, Thresholds.tune(p, truth, 0.45)[0], 1e-6);
        assertEquals(0.5, Thresholds.tune(p, truth, 0.9)[0], 1e-6);
    }
}
