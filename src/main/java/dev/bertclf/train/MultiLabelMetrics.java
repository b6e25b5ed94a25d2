package dev.bertclf.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Multi-label scores as scikit-learn computes them from indicator matrices ({@code precision_recall_fscore_support},
 * {@code f1_score} with {@code average = micro | macro | weighted}, {@code accuracy_score}, {@code hamming_loss}):
 * every label counts, those absent from the truth included; a ratio whose denominator is 0 is 0 (scikit-learn's
 * {@code zero_division} default, after its warning).
 *
 * @param perLabel       each label's counts and scores, in the order of the labels
 * @param subsetAccuracy the share of texts whose predicted label set is exactly the true one
 * @param hammingLoss    the share of (text, label) decisions that are wrong
 */
public record MultiLabelMetrics(List<Label> perLabel, double microF1, double macroF1, double weightedF1,
                                double subsetAccuracy, double hammingLoss, int examples) {

    /** One label: its confusion counts, precision, recall, F1, and support (texts that truly carry it). */
    public record Label(String name, int truePositives, int falsePositives, int falseNegatives, int trueNegatives,
                        double precision, double recall, double f1) {
        public int support() {
            return truePositives + falseNegatives;
        }
    }

    /** Scores predictions {@code predicted[text][label]} against the truth, both as 0/1 decisions. */
    public static MultiLabelMetrics of(List<String> labels, boolean[][] truth, boolean[][] predicted) {
        if (truth.length != predicted.length) {
            throw new IllegalArgumentException(truth.length + " true rows but " + predicted.length + " predicted");
        }
        int n = truth.length;
        int l = labels.size();
        int[] tp = new int[l];
        int[] fp = new int[l];
        int[] fn = new int[l];
        int exact = 0;
        long wrong = 0;
        for (int i = 0; i < n; i++) {
            if (truth[i].length != l || predicted[i].length != l) {
                throw new IllegalArgumentException("row " + i + " has not " + l + " labels");
            }
            boolean allRight = true;
            for (int j = 0; j < l; j++) {
                boolean t = truth[i][j];
                boolean p = predicted[i][j];
                tp[j] += t && p ? 1 : 0;
                fp[j] += !t && p ? 1 : 0;
                fn[j] += t && !p ? 1 : 0;
                if (t != p) {
                    allRight = false;
                    wrong++;
                }
            }
            exact += allRight ? 1 : 0;
        }
        List<Label> per = new ArrayList<>();
        int tpSum = 0;
        int fpSum = 0;
        int fnSum = 0;
        double f1Sum = 0;
        double weightedSum = 0;
        int supportSum = 0;
        for (int j = 0; j < l; j++) {
            double f1 = ratio(2.0 * tp[j], 2.0 * tp[j] + fp[j] + fn[j]);
            per.add(new Label(labels.get(j), tp[j], fp[j], fn[j], n - tp[j] - fp[j] - fn[j],
                    ratio(tp[j], tp[j] + fp[j]), ratio(tp[j], tp[j] + fn[j]), f1));
            tpSum += tp[j];
            fpSum += fp[j];
            fnSum += fn[j];
            f1Sum += f1;
            weightedSum += f1 * (tp[j] + fn[j]);
            supportSum += tp[j] + fn[j];
        }
        return new MultiLabelMetrics(List.copyOf(per), ratio(2.0 * tpSum, 2.0 * tpSum + fpSum + fnSum),
                l == 0 ? 0 : f1Sum / l, ratio(weightedSum, supportSum), ratio(exact, n),
                ratio(wrong, (double) n * l), n);
    }

    private static double ratio(double numerator, double denominator) {
        return denominator == 0 ? 0 : numerator / denominator;
    }

    /** The scores for metrics.json: the averages, then per label its scores, support and confusion counts. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("examples", examples);
        m.put("micro_f1", microF1);
        m.put("macro_f1", macroF1);
        m.put("weighted_f1", weightedF1);
        m.put("subset_accuracy", subsetAccuracy);
        m.put("hamming_loss", hammingLoss);
        Map<String, Object> labels = new LinkedHashMap<>();
        for (Label x : perLabel) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("precision", x.precision());
            one.put("recall", x.recall());
            one.put("f1", x.f1());
            one.put("support", x.support());
            one.put("confusion", Map.of("tp", x.truePositives(), "fp", x.falsePositives(),
                    "fn", x.falseNegatives(), "tn", x.trueNegatives()));
            labels.put(x.name(), one);
        }
        m.put("per_label", labels);
        return m;
    }
}
