package dev.bertclf.data;

import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Settings.WindowPooling;
import dev.bertclf.config.Settings.WindowSettings;
import dev.bertclf.config.Truncation;
import org.deeplearning4j.iterator.BertIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    private static Featurizer windows(int window, int stride, int maxWindows, Truncation t) {
        return new Featurizer(vocab, TextNormalization.UNCASED, new FeatureSettings(64, t, 0.5, Padding.BATCH, true)
                .inWindows(new WindowSettings(window, stride, WindowPooling.MEAN, maxWindows)));
    }

    /** The rows of a batch as word pieces, [PAD] left out. */
    private static List<String> rowsAsPieces(Featurizer.Batch b) {
        String[] byId = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "great", "bad", "a",
                "plot", ",", ".", "##s", "film"};
        List<String> rows = new ArrayList<>();
        for (int r = 0; r < b.rows(); r++) {
            StringBuilder row = new StringBuilder();
            int[] ids = b.inputIds().getRow(r).toIntVector();
            int[] mask = b.inputMask().getRow(r).toIntVector();
            for (int i = 0; i < ids.length && mask[i] == 1; i++) {
                row.append(i == 0 ? "" : " ").append(byId[ids[i]]);
            }
            rows.add(row.toString());
        }
        return rows;
    }

    @Test
    void aLongTextIsReadInOverlappingWindowsTheLastEndingAtItsEnd() {
        // 10 word pieces, windows of 4 + [CLS] and [SEP], stride 3: starts 0, 3, then 6 ends at the end
        String text = "the movie was great , the plot was bad .";
        Featurizer.Batch b = windows(6, 3, 16, Truncation.HEAD).featurize(List.of("great film", text));
        assertEquals(List.of("[CLS] great film [SEP]",
                "[CLS] the movie was great [SEP]",
                "[CLS] great , the plot [SEP]",
                "[CLS] plot was bad . [SEP]"), rowsAsPieces(b));
        assertEquals("[0, 1, 1, 1]", Arrays.toString(b.textOfRow()));
        assertEquals(2, b.texts());
        assertEquals(6, b.seqLen(), "padded to the longest window");
        assertEquals(3, windows(6, 3, 16, Truncation.HEAD).windowCount(text));
        assertEquals(1, windows(6, 3, 16, Truncation.HEAD).windowCount("great film"));
    }

    @Test
    void windowsWithTheStrideOfTheirBodyDoNotOverlapExceptTheLast() {
        assertEquals("[0, 4, 6]", Arrays.toString(Featurizer.windowStarts(10,
                new WindowSettings(6, 4, WindowPooling.MEAN, 16))));
        assertEquals("[0, 4]", Arrays.toString(Featurizer.windowStarts(8,
                new WindowSettings(6, 4, WindowPooling.MEAN, 16))));
        assertEquals("[0]", Arrays.toString(Featurizer.windowStarts(4,
                new WindowSettings(6, 4, WindowPooling.MEAN, 16))));
    }

    @Test
    void beyondMaxWindowsTheTextIsFirstCutByItsTruncation() {
        // 2 windows of 4 at stride 3 cover 7 word pieces: head+tail keeps 3.5 -> 4 from the start and 3 from the end
        String text = "the movie was great , the plot was bad .";
        assertEquals(List.of("[CLS] the movie was great [SEP]", "[CLS] great was bad . [SEP]"),
                rowsAsPieces(windows(6, 3, 2, Truncation.HEAD_TAIL).featurize(List.of(text))));
        assertEquals(2, windows(6, 3, 2, Truncation.HEAD_TAIL).windowCount(text));
    }

    @Test
    void aTextThatFitsOneWindowGetsTheFeaturesTruncationWouldGiveIt() {
        List<String> texts = List.of("The movie was GREAT.", "films<br />a plot", "bad");
        Featurizer.Batch cut = featurizer(16, Truncation.HEAD, true).featurize(texts, true);
        Featurizer.Batch windowed = new Featurizer(vocab, TextNormalization.UNCASED,
                new FeatureSettings(16, Truncation.HEAD, 0.5, Padding.FIXED, true)
                        .inWindows(new WindowSettings(16, 8, WindowPooling.MEAN, 4))).featurize(texts, true);
        assertEquals(cut.inputIds(), windowed.inputIds());
        assertEquals(cut.inputMask(), windowed.inputMask());
        assertEquals(cut.segmentIds(), windowed.segmentIds());
        assertEquals(cut.inputIds().dataType(), windowed.inputIds().dataType());
        assertEquals("[0, 1, 2]", Arrays.toString(windowed.textOfRow()));
    }
}
