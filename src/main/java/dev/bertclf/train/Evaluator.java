package dev.bertclf.train;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.io.ProgressBars;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.Task;
import me.tongfei.progressbar.ProgressBar;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Runs a classifier graph over labelled rows and scores its decisions: single-label with DL4J's {@link Evaluation},
 * multi-label with {@link MultiLabelMetrics}, both as scikit-learn defines the scores.
 */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * What a classifier gave for labelled rows, in their order: the probabilities and each row's true labels.
     *
     * @param loss mean cross-entropy: of the true class for single-label, binary over every (text, label) pair for
     *             multi-label
     */
    public record Scores(float[][] probabilities, boolean[][] truth, double loss, double seconds) {
    }

    /**
     * Scores of one evaluation. For multi-label, {@code accuracy} is the subset accuracy and {@code evaluation} is
     * null; for single-label, {@code multiLabel} is null.
     */
    public record Report(String name, int examples, double accuracy, double macroF1, double loss,
                         Evaluation evaluation, MultiLabelMetrics multiLabel, Task task, Scores scores,
                         double seconds) {
        /** The scores for metrics.json: accuracy, per-class scores and confusion counts. */
        public Map<String, Object> toMap(List<String> labels) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (multiLabel != null) {
                m.put("loss", loss);
                m.putAll(multiLabel.toMap());
                m.put("thresholds", task.thresholdsByLabel());
                m.put("seconds", seconds);
                return m;
            }
            m.put("examples", examples);
            m.put("accuracy", accuracy);
            m.put("macro_f1", macroF1);
            m.put("loss", loss);
            Map<String, Object> perClass = new LinkedHashMap<>();
            for (int i = 0; i < labels.size(); i++) {
                perClass.put(labels.get(i), Map.of("precision", evaluation.precision(i),
                        "recall", evaluation.recall(i), "f1", evaluation.f1(i)));
            }
            m.put("per_class", perClass);
            int[][] confusion = new int[labels.size()][labels.size()];
            for (int a = 0; a < labels.size(); a++) {
                for (int p = 0; p < labels.size(); p++) {
                    confusion[a][p] = evaluation.getConfusionMatrix().getCount(a, p);
                }
            }
            m.put("confusion_rows_actual_columns_predicted", confusion);
            m.put("seconds", seconds);
            return m;
        }

        /** The human-readable report: DL4J's statistics, or each label's scores. */
        public String stats() {
            if (evaluation != null) {
                return evaluation.stats(false, true);
            }
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
                    "micro F1 %.4f, macro F1 %.4f, weighted F1 %.4f, subset accuracy %.4f, Hamming loss %.4f%n",
                    multiLabel.microF1(), multiLabel.macroF1(), multiLabel.weightedF1(), multiLabel.subsetAccuracy(),
                    multiLabel.hammingLoss()));
            s.append(String.format(Locale.ROOT, "%-16s %9s %9s %9s %9s %9s%n", "label", "threshold",
                    "precision", "recall", "f1", "support"));
            for (int j = 0; j < multiLabel.perLabel().size(); j++) {
                MultiLabelMetrics.Label l = multiLabel.perLabel().get(j);
                s.append(String.format(Locale.ROOT, "%-16s %9.3f %9.4f %9.4f %9.4f %9d%n", l.name(),
                        task.thresholds()[j], l.precision(), l.recall(), l.f1(), l.support()));
            }
            return s.toString();
        }

        /** This evaluation's probabilities decided again by {@code other} (thresholds tuned on them, say). */
        public Report decidedBy(Task other) {
            return report(name, other, scores);
        }
    }

    /** Evaluates {@code rows} with the classifier's own decision rule (its task). */
    public static Report evaluate(String name, Classifier classifier, List<LabeledText> rows, int batchSize) {
        return report(name, classifier.task(), scores(name, classifier, rows, batchSize));
    }

    /**
     * The classifier's probabilities for {@code rows}, in batches of {@code batchSize}, with a progress bar. The rows
     * are batched in order of their length, so that a batch padded to its longest text pads little; the results come
     * back in the rows' order.
     */
    public static Scores scores(String name, Classifier classifier, List<LabeledText> rows, int batchSize) {
        Featurizer f = classifier.featurizer();
        Task task = classifier.task();
        List<String> labels = task.labels();
        long start = System.nanoTime();
        float[][] probabilities = new float[rows.size()][];
        boolean[][] truth = new boolean[rows.size()][labels.size()];
        double lossSum = 0;
        int[] byLength = IntStream.range(0, rows.size()).boxed()
                .sorted(Comparator.comparingInt(i -> rows.get(i).text().length())).mapToInt(i -> i).toArray();
        try (ProgressBar bar = ProgressBars.of("Evaluate " + name, rows.size())) {
            for (int from = 0; from < byLength.length; from += batchSize) {
                int[] batch = Arrays.copyOfRange(byLength, from, Math.min(byLength.length, from + batchSize));
                Featurizer.Batch b = f.featurize(IntStream.of(batch).mapToObj(i -> rows.get(i).text()).toList(),
                        f.settings().fixedLength());
                float[][] p = classifier.classify(b).probabilities();
                for (int k = 0; k < batch.length; k++) {
                    int i = batch[k];
                    probabilities[i] = p[k];
                    LabeledText row = rows.get(i);
                    for (String l : row.labels()) {
                        int y = labels.indexOf(l);
                        if (y < 0) {
                            throw new IllegalArgumentException("label '" + l + "' of line " + row.line()
                                    + " is not one of " + labels);
                        }
                        truth[i][y] = true;
                    }
                    lossSum += task.multiLabel() ? binaryCrossEntropy(p[k], truth[i])
                            : -Math.log(Math.max(p[k][labels.indexOf(row.label())], 1e-12));
                }
                bar.stepBy(batch.length);
                Engine.afterInferenceBatch();
            }
        }
        return new Scores(probabilities, truth, rows.isEmpty() ? Double.NaN : lossSum / rows.size(),
                (System.nanoTime() - start) / 1e9);
    }

    /** Mean binary cross-entropy of one text's label probabilities (clamped away from 0 and 1). */
    private static double binaryCrossEntropy(float[] p, boolean[] truth) {
        double sum = 0;
        for (int j = 0; j < p.length; j++) {
            double q = Math.min(Math.max(p[j], 1e-12), 1 - 1e-7);
            sum -= truth[j] ? Math.log(q) : Math.log(1 - q);
        }
        return sum / p.length;
    }

    /** Scores {@code s} as {@code task} decides. */
    static Report report(String name, Task task, Scores s) {
        int n = s.probabilities().length;
        if (task.multiLabel()) {
            MultiLabelMetrics m = MultiLabelMetrics.of(task.labels(), s.truth(), task.decisions(s.probabilities()));
            return new Report(name, n, m.subsetAccuracy(), m.macroF1(), s.loss(), null, m, task, s, s.seconds());
        }
        Evaluation eval = new Evaluation(task.labels());
        if (n > 0) {
            var truth = Nd4j.zeros(DataType.FLOAT, n, task.labels().size());
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < task.labels().size(); j++) {
                    if (s.truth()[i][j]) {
                        truth.putScalar(i, j, 1.0);
                    }
                }
            }
            eval.eval(truth, Nd4j.create(s.probabilities()));
        }
        return new Report(name, n, eval.accuracy(), macroF1(eval, task.labels().size()), s.loss(), eval, null, task, s,
                s.seconds());
    }

    /**
     * Macro F1 as scikit-learn computes it: the mean F1 over the classes that occur in the truth or in the
     * predictions; a class absent from both is left out rather than counted as 0. NaN when nothing was scored.
     */
    public static double macroF1(Evaluation eval, int classes) {
        double sum = 0;
        int counted = 0;
        for (int c = 0; c < classes; c++) {
            int actual = eval.getConfusionMatrix().getActualTotal(c);
            int predicted = eval.getConfusionMatrix().getPredictedTotal(c);
            if (actual + predicted > 0) {
                sum += 2.0 * eval.getConfusionMatrix().getCount(c, c) / (actual + predicted);
                counted++;
            }
        }
        return counted == 0 ? Double.NaN : sum / counted;
    }
}
