package dev.bertclf.train;

import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.Task;
import dev.bertclf.model.GraphNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EvaluatorTest {
    @TempDir
    Path tmp;

    /** Scores one-hot truth against one-hot predictions over {@code labels}. */
    static Evaluation scored(List<String> labels, int[] truth, int[] predicted) {
        Evaluation e = new Evaluation(labels);
        float[][] t = new float[truth.length][labels.size()];
        float[][] p = new float[truth.length][labels.size()];
        for (int i = 0; i < truth.length; i++) {
            t[i][truth[i]] = 1;
            p[i][predicted[i]] = 1;
        }
        e.eval(Nd4j.createFromArray(t), Nd4j.createFromArray(p));
        return e;
    }

    @Test
    void macroF1LeavesOutAClassAbsentFromTruthAndPredictionsAsScikitLearnDoes() {
        // truth 0 0 1 1, predicted 0 1 1 1, class 2 never seen:
        // F1(0) = 2*1/(2+1) = 2/3, F1(1) = 2*2/(2+3) = 4/5; sklearn f1_score(average="macro") = (2/3 + 4/5) / 2
        Evaluation e = scored(List.of("a", "b", "c"), new int[]{0, 0, 1, 1}, new int[]{0, 1, 1, 1});
        assertEquals((2.0 / 3 + 4.0 / 5) / 2, Evaluator.macroF1(e, 3), 1e-12);
    }

    @Test
    void aClassOnlyPredictedCountsWithF1Zero() {
        // truth 0 0 1, predicted 0 2 1: F1(0) = 2/3, F1(1) = 1, F1(2) = 0 (predicted, never true)
        Evaluation e = scored(List.of("a", "b", "c"), new int[]{0, 0, 1}, new int[]{0, 2, 1});
        assertEquals((2.0 / 3 + 1 + 0) / 3, Evaluator.macroF1(e, 3), 1e-12);
    }

    /**
     * A stand-in classifier whose probabilities depend on the words of a text and not on the padding of its
     * batch: softmax of the masked mean of word vectors {@code [batch, seqLen, 2]} over the sequence.
     */
    private static SameDiff bagOfWords(Featurizer.Batch sample, int vocabSize) {
        return bagOfWords(sample, vocabSize, 2, false);
    }

    /** The same with {@code outputs} scores, through a softmax, or a sigmoid each ({@code sigmoid}). */
    private static SameDiff bagOfWords(Featurizer.Batch sample, int vocabSize, int outputs, boolean sigmoid) {
        SameDiff sd = SameDiff.create();
        SDVariable ids = sd.placeHolder(GraphNames.INPUT_IDS, sample.inputIds().dataType(), -1, -1);
        SDVariable mask = sd.placeHolder(GraphNames.INPUT_MASK, sample.inputMask().dataType(), -1, -1);
        sd.placeHolder(GraphNames.SEGMENT_IDS, sample.segmentIds().dataType(), -1, -1);
        Nd4j.getRandom().setSeed(7);
        SDVariable words = sd.var("words", Nd4j.randn(DataType.FLOAT, vocabSize, outputs).muli(2));
        SDVariable m = mask.castTo(DataType.FLOAT);
        SDVariable summed = sd.gather(words, ids, 0).mul(sd.expandDims(m, 2)).sum(1);
        SDVariable mean = summed.div(sd.expandDims(m.sum(1), 1));
        if (sigmoid) {
            sd.nn().sigmoid(GraphNames.PROBS, mean);
        } else {
            sd.nn().softmax(GraphNames.PROBS, mean, 1);
        }
        return sd;
    }

    static final List<String> VOCABULARY = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie",
            "was", "great", "bad", "a", "plot", "dull", "fine", "film", "story");

    /** A featurizer of {@link #VOCABULARY}, up to 32 word pieces, each batch padded to its longest text. */
    private Featurizer featurizer() throws Exception {
        return new Featurizer(Files.write(tmp.resolve("vocab.txt"), VOCABULARY), TextNormalization.UNCASED,
                new FeatureSettings(32, Truncation.HEAD, 0.5, Padding.BATCH, true));
    }

    @Test
    void scoresOfRowsBatchedByLengthAreThoseOfEachRowScoredAloneInFileOrder() throws Exception {
        Featurizer f = featurizer();
        String[] texts = {"the story was a great plot , the film was fine and the movie was great",
                "bad", "the plot was dull", "a fine film", "the movie was bad , the story dull and the plot bad",
                "great", "a dull story", "the film was great", "movie", "the plot was fine but the story was dull"};
        SameDiff sd = bagOfWords(f.featurize(List.of(texts[0])), VOCABULARY.size());
        List<String> labels = List.of("negative", "positive");

        // reference: each row alone, in file order; every third label is the class the model did not choose
        List<LabeledText> rows = new ArrayList<>();
        double lossSum = 0;
        int right = 0;
        for (int i = 0; i < texts.length; i++) {
            float[] p = Classifier.probabilities(sd, f.featurize(List.of(texts[i]))).toFloatVector();
            int best = Classifier.argMax(p);
            int y = i % 3 == 0 ? 1 - best : best;
            rows.add(new LabeledText(texts[i], labels.get(y), i + 2));
            lossSum -= Math.log(p[y]);
            right += y == best ? 1 : 0;
        }

        Evaluator.Report report = Evaluator.evaluate("test", new Classifier(sd, f, labels, Settings.Precision.FP32),
                rows, 3);
        assertEquals(texts.length, report.examples());
        assertEquals((double) right / texts.length, report.accuracy(), 1e-12);
        assertEquals(lossSum / texts.length, report.loss(), 1e-5);
        assertEquals(right, report.evaluation().getConfusionMatrix().getCount(0, 0)
                + report.evaluation().getConfusionMatrix().getCount(1, 1));
    }

    @Test
    void aMultiLabelEvaluationDecidesByEachLabelsThresholdAndAveragesTheBinaryCrossEntropy() throws Exception {
        Featurizer f = featurizer();
        String[] texts = {"the story was a great plot , the film was fine", "bad", "the plot was dull",
                "a fine film", "great", "a dull story and a bad movie", "the film was great"};
        List<String> labels = List.of("joy", "anger", "neutral");
        SameDiff sd = bagOfWords(f.featurize(List.of(texts[0])), VOCABULARY.size(), 3, true);
        double[] thresholds = {0.3, 0.5, 0.7};
        // truth: label j on row i when (i + j) is even; the reference decisions and loss computed here, row by row
        List<LabeledText> rows = new ArrayList<>();
        boolean[][] truth = new boolean[texts.length][3];
        boolean[][] decided = new boolean[texts.length][3];
        double lossSum = 0;
        for (int i = 0; i < texts.length; i++) {
            float[] p = Classifier.probabilities(sd, f.featurize(List.of(texts[i]))).toFloatVector();
            List<String> carried = new ArrayList<>();
            double bce = 0;
            for (int j = 0; j < 3; j++) {
                truth[i][j] = (i + j) % 2 == 0;
                decided[i][j] = p[j] >= thresholds[j];
                if (truth[i][j]) {
                    carried.add(labels.get(j));
                }
                bce -= truth[i][j] ? Math.log(p[j]) : Math.log(1 - p[j]);
            }
            lossSum += bce / 3;
            rows.add(new LabeledText(texts[i], carried, i + 2));
        }
        Task task = Task.multiLabel(labels, thresholds);

        Evaluator.Report report = Evaluator.evaluate("test", new Classifier(sd, f, task, Settings.Precision.FP32),
                rows, 3);

        MultiLabelMetrics expected = MultiLabelMetrics.of(labels, truth, decided);
        assertEquals(expected, report.multiLabel());
        assertEquals(expected.macroF1(), report.macroF1());
        assertEquals(expected.subsetAccuracy(), report.accuracy());
        assertEquals(lossSum / texts.length, report.loss(), 1e-5);
        Task others = Task.multiLabel(labels, new double[]{0.99, 0.99, 0.99});
        assertEquals(MultiLabelMetrics.of(labels, truth, others.decisions(report.scores().probabilities())),
                report.decidedBy(others).multiLabel(), "decided again from the same probabilities");
    }
}
