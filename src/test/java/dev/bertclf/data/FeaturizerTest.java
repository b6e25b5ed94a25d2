package dev.bertclf.data;

import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import org.deeplearning4j.iterator.BertIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FeaturizerTest {
    @TempDir
    static Path tmp;
    static Path vocab;

    @BeforeAll
    static void writeVocab() throws Exception {
        vocab = Files.write(tmp.resolve("vocab.txt"), List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                "the", "movie", "was", "great", "bad", "a", "plot", ",", ".", "##s", "film"));
    }

    private static Featurizer featurizer(int maxLength, Truncation t, boolean fixed) {
        return new Featurizer(vocab, TextNormalization.UNCASED,
                new FeatureSettings(maxLength, t, 0.5, fixed ? Padding.FIXED : Padding.BATCH, true));
    }

    @Test
    void truncationStrategies() {
        List<String> tokens = List.of("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9");
        assertEquals(List.of("t0", "t1", "t2", "t3"), Truncation.HEAD.apply(tokens, 4, 0.5));
        assertEquals(List.of("t6", "t7", "t8", "t9"), Truncation.TAIL.apply(tokens, 4, 0.5));
        assertEquals(List.of("t0", "t1", "t8", "t9"), Truncation.HEAD_TAIL.apply(tokens, 4, 0.5));
        assertEquals(List.of("t0", "t7", "t8", "t9"), Truncation.HEAD_TAIL.apply(tokens, 4, 0.25));
        assertEquals(tokens, Truncation.HEAD_TAIL.apply(tokens, 10, 0.5), "short texts are untouched");
        assertEquals(Truncation.HEAD_TAIL, Truncation.parse("head+tail"));
        assertThrows(IllegalArgumentException.class, () -> Truncation.parse("middle"));
    }

    @Test
    void textsBecomeClsTokensSep() {
        assertEquals(List.of("[CLS]", "the", "movie", "was", "great", ".", "[SEP]"),
                featurizer(16, Truncation.HEAD, false).tokens("The movie was GREAT."));
        assertEquals(List.of("[CLS]", "film", "##s", "[SEP]"), featurizer(16, Truncation.HEAD, false).tokens("films"));
    }

    @Test
    void longTextsAreCutByStrategyAndKeepSep() {
        String text = "the movie was great , the plot was bad";
        assertEquals(List.of("[CLS]", "the", "movie", "was", "[SEP]"),
                featurizer(5, Truncation.HEAD, false).tokens(text));
        assertEquals(List.of("[CLS]", "plot", "was", "bad", "[SEP]"),
                featurizer(5, Truncation.TAIL, false).tokens(text));
        assertEquals(List.of("[CLS]", "the", "movie", "was", "bad", "[SEP]"),
                featurizer(6, Truncation.HEAD_TAIL, false).tokens(text));
    }

    @Test
    void htmlBreaksAreStripped() {
        assertEquals(List.of("[CLS]", "great", "film", "[SEP]"),
                featurizer(16, Truncation.HEAD, false).tokens("great<br /><br />film"));
    }

    @Test
    void batchesArePaddedToTheirLongestTextOrToTheFixedLength() {
        List<String> texts = List.of("great", "the movie was bad");
        Featurizer.Batch b = featurizer(16, Truncation.HEAD, false).featurize(texts);
        assertEquals(6, b.seqLen());
        assertEquals("[2, 8, 3, 0, 0, 0]", java.util.Arrays.toString(b.inputIds().getRow(0).toIntVector()));
        assertEquals("[1, 1, 1, 0, 0, 0]", java.util.Arrays.toString(b.inputMask().getRow(0).toIntVector()));
        assertEquals(0, b.segmentIds().sumNumber().intValue());
        assertEquals(16, featurizer(16, Truncation.HEAD, true).featurize(texts, true).seqLen());
    }

    @Test
    void iteratorLabelsFollowTheGivenLabelOrder() {
        List<LabeledText> rows = List.of(new LabeledText("great", "positive", 2),
                new LabeledText("bad", "positive", 3));
        var it = featurizer(8, Truncation.HEAD, false).iterator(rows, List.of("negative", "neutral", "positive"), 2,
                null);
        var mds = it.next();
        assertEquals(3, mds.getLabels(0).size(1), "all classes, even those absent from this split");
        assertEquals(1.0, mds.getLabels(0).getDouble(0, 2));
    }

    @Test
    void aMultiLabelIteratorGivesEachTextsLabelSetMultiHotAlsoAfterAReset() {
        List<String> labels = List.of("anger", "joy", "love", "neutral");
        List<LabeledText> rows = List.of(new LabeledText("great film", List.of("joy", "love"), 2),
                new LabeledText("bad plot", List.of("anger"), 3), new LabeledText("the movie", List.of(), 4),
                new LabeledText("a film", List.of("neutral"), 5), new LabeledText("great", List.of("joy"), 6));
        BertIterator it = featurizer(16, Truncation.HEAD, false).iterator(rows, labels, 2, null, true);
        assertEquals("[[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]]", labelsOf(it.next()));
        assertEquals("[[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]", labelsOf(it.next()), "no label: all 0");
        assertEquals("[[0.0, 1.0, 0.0, 0.0]]", labelsOf(it.next()));
        it.reset();
        assertEquals("[[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]]", labelsOf(it.next()), "after a reset");
    }

    @Test
    void aSingleLabelIteratorStaysOneHot() {
        BertIterator it = featurizer(16, Truncation.HEAD, false).iterator(List.of(
                new LabeledText("great film", "positive", 2), new LabeledText("bad plot", "negative", 3)),
                List.of("negative", "positive"), 2, null);
        assertEquals("[[0.0, 1.0], [1.0, 0.0]]", labelsOf(it.next()));
    }

    private static String labelsOf(MultiDataSet batch) {
        return Arrays.deepToString(batch.getLabels(0).toFloatMatrix());
    }
}
