package dev.bertclf.train;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.io.ProgressBars;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.Classifier;
import me.tongfei.progressbar.ProgressBar;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a classifier graph over labelled rows and scores it with DL4J's {@link Evaluation}. */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * Scores of one evaluation.
     *
     * @param loss mean softmax cross-entropy
     */
    public record Report(String name, int examples, double accuracy, double macroF1, double loss,
                         Evaluation evaluation, double seconds) {
        /** Accuracy, per-class precision/recall/F1 and the confusion matrix, for metrics.json. */
        public Map<String, Object> toMap(List<String> labels) {
            Map<String, Object> m = new LinkedHashMap<>();
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
    }

    /**
     * Evaluates in batches of {@code batchSize}, with a progress bar. The rows are batched in order of their
     * length, so that a batch padded to its longest text pads little; the scores do not depend on the order.
     */
    public static Report evaluate(String name, Classifier classifier, List<LabeledText> rows, int batchSize) {
        Featurizer f = classifier.featurizer();
        List<String> labels = classifier.labels();
        long start = System.nanoTime();
        Evaluation eval = new Evaluation(labels);
        double lossSum = 0;
        List<LabeledText> byLength = rows.stream().sorted(Comparator.comparingInt(r -> r.text().length())).toList();
        try (ProgressBar bar = ProgressBars.of("Evaluate " + name, rows.size())) {
            for (int from = 0; from < byLength.size(); from += batchSize) {
                List<LabeledText> batch = byLength.subList(from, Math.min(byLength.size(), from + batchSize));
                Featurizer.Batch b = f.featurize(batch.stream().map(LabeledText::text).toList(),
                        f.settings().fixedLength());
                INDArray probs = classifier.probabilities(b);
                INDArray oneHot = Nd4j.zeros(DataType.FLOAT, batch.size(), labels.size());
                for (int i = 0; i < batch.size(); i++) {
                    int y = labels.indexOf(batch.get(i).label());
                    if (y < 0) {
                        throw new IllegalArgumentException("label '" + batch.get(i).label() + "' of line "
                                + batch.get(i).line() + " is not one of " + labels);
                    }
                    oneHot.putScalar(i, y, 1.0);
                    lossSum -= Math.log(Math.max(probs.getDouble(i, y), 1e-12));
                }
                eval.eval(oneHot, probs);
                bar.stepBy(batch.size());
                Engine.afterInferenceBatch();
            }
        }
        return new Report(name, rows.size(), eval.accuracy(), macroF1(eval, labels.size()), lossSum / rows.size(),
                eval, (System.nanoTime() - start) / 1e9);
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
