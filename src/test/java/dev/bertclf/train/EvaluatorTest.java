package dev.bertclf.train;

import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Classifier;
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
        SameDiff sd = SameDiff.create();
        SDVariable ids = sd.placeHolder(GraphNames.INPUT_IDS, sample.inputIds().dataType(), -1, -1);
        SDVariable mask = sd.placeHolder(GraphNames.INPUT_MASK, sample.inputMask().dataType(), -1, -1);
        sd.placeHolder(GraphNames.SEGMENT_IDS, sample.segmentIds().dataType(), -1, -1);
        Nd4j.getRandom().setSeed(7);
        SDVariable words = sd.var("words", Nd4j.randn(DataType.FLOAT, vocabSize, 2).muli(2));
        SDVariable m = mask.castTo(DataType.FLOAT);
        SDVariable summed = sd.gather(words, ids, 0).mul(sd.expandDims(m, 2)).sum(1);
        SDVariable mean = summed.div(sd.expandDims(m.sum(1), 1));
        sd.nn().softmax(GraphNames.PROBS, mean, 1);
        return sd;
    }

    @Test
    void scoresOfRowsBatchedByLengthAreThoseOfEachRowScoredAloneInFileOrder() throws Exception {
        List<String> vocabulary = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was",
                "great", "bad", "a", "plot", "dull", "fine", "film", "story");
        Path vocab = Files.write(tmp.resolve("vocab.txt"), vocabulary);
        Featurizer f = new Featurizer(vocab, TextNormalization.UNCASED,
                new FeatureSettings(32, Truncation.HEAD, 0.5, Padding.BATCH, true));
        String[] texts = {"the story was a great plot , the film was fine and the movie was great",
                "bad", "the plot was dull", "a fine film", "the movie was bad , the story dull and the plot bad",
                "great", "a dull story", "the film was great", "movie", "the plot was fine but the story was dull"};
        SameDiff sd = bagOfWords(f.featurize(List.of(texts[0])), vocabulary.size());
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
}
