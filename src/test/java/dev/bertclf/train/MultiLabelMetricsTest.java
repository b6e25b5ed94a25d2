package dev.bertclf.train;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The multi-label scores against scikit-learn's definitions, worked out by hand below for a 5-text, 4-label case in
 * which one label ("surprise") never occurs in the truth and one ("fear") is never predicted; the same figures come
 * out of scikit-learn 1.2.1 ({@code zero_division=0}).
 */
class MultiLabelMetricsTest {
    static final List<String> LABELS = List.of("joy", "anger", "fear", "surprise");
    static final boolean T = true;
    static final boolean F = false;
    //                                   joy anger fear surprise
    static final boolean[][] TRUTH = {{T, F, F, F},
                                      {T, T, F, F},
                                      {F, T, T, F},
                                      {F, F, T, F},
                                      {T, F, F, F}};
    static final boolean[][] PREDICTED = {{T, F, F, F},
                                          {T, F, F, T},
                                          {F, T, F, F},
                                          {T, F, F, F},
                                          {T, F, F, F}};

    @Test
    void perLabelCountsAndScoresFollowScikitLearn() {
        MultiLabelMetrics m = MultiLabelMetrics.of(LABELS, TRUTH, PREDICTED);
        // joy: true in texts 0, 1, 4; predicted in 0, 1, 3, 4 -> tp 3, fp 1, fn 0, tn 1
        check(m.perLabel().get(0), 3, 1, 0, 1, 3 / 4.0, 1.0, 6 / 7.0);
        // anger: true in 1, 2; predicted in 2 -> tp 1, fp 0, fn 1: precision 1, recall 1/2, F1 2/3
        check(m.perLabel().get(1), 1, 0, 1, 3, 1.0, 0.5, 2 / 3.0);
        // fear: true in 2, 3; never predicted -> precision 0/0 = 0, recall 0, F1 0
        check(m.perLabel().get(2), 0, 0, 2, 3, 0.0, 0.0, 0.0);
        // surprise: never true; predicted in 1 -> precision 0/1, recall 0/0 = 0, F1 0; support 0
        check(m.perLabel().get(3), 0, 1, 0, 4, 0.0, 0.0, 0.0);
        assertEquals(0, m.perLabel().get(3).support());
        assertEquals(3, m.perLabel().get(0).support());
    }

    @Test
    void averagesSubsetAccuracyAndHammingLossFollowScikitLearn() {
        MultiLabelMetrics m = MultiLabelMetrics.of(LABELS, TRUTH, PREDICTED);
        // micro: tp 4, fp 2, fn 3 -> 2*4 / (8 + 2 + 3) = 8/13
        assertEquals(8 / 13.0, m.microF1(), 1e-12);
        // macro over all 4 labels, the one absent from the truth included: (6/7 + 2/3 + 0 + 0) / 4
        assertEquals((6 / 7.0 + 2 / 3.0) / 4, m.macroF1(), 1e-12);
        // weighted by support 3, 2, 2, 0: (3 * 6/7 + 2 * 2/3) / 7
        assertEquals((3 * 6 / 7.0 + 2 * 2 / 3.0) / 7, m.weightedF1(), 1e-12);
        // exactly right: texts 0 and 4
        assertEquals(2 / 5.0, m.subsetAccuracy(), 1e-12);
        // wrong cells: text 1 (anger, surprise), text 2 (fear), text 3 (joy, fear) = 5 of 20
        assertEquals(5 / 20.0, m.hammingLoss(), 1e-12);
    }

    @Test
    void nothingToScoreGivesZerosNotNaN() {
        MultiLabelMetrics m = MultiLabelMetrics.of(LABELS, new boolean[0][], new boolean[0][]);
        assertEquals(0, m.microF1());
        assertEquals(0, m.macroF1());
        assertEquals(0, m.subsetAccuracy());
        assertEquals(0, m.hammingLoss());
    }

    private static void check(MultiLabelMetrics.Label l, int tp, int fp, int fn, int tn, double precision,
                              double recall, double f1) {
        assertEquals(List.of(tp, fp, fn, tn), List.of(l.truePositives(), l.falsePositives(), l.falseNegatives(),
                l.trueNegatives()), l.name());
        assertEquals(precision, l.precision(), 1e-12, l.name() + " precision");
        assertEquals(recall, l.recall(), 1e-12, l.name() + " recall");
        assertEquals(f1, l.f1(), 1e-12, l.name() + " F1");
    }
}
