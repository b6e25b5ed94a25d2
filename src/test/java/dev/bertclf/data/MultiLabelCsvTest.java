package dev.bertclf.data;

import dev.bertclf.RealBert;
import dev.bertclf.config.Settings.BadRowPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Multi-label CSV files in both forms: label names joined in one column, and one 0/1 column per label. */
class MultiLabelCsvTest {
    static final CsvDataset.LabelSets EMOTIONS = new CsvDataset.LabelSets.Joined("emotions", ";");
    static final CsvDataset.LabelSets TOXIC = new CsvDataset.LabelSets.Indicators(
            List.of("toxic", "obscene", "insult"), null);
    @TempDir
    Path tmp;

    private Path csv(String name, String content) throws Exception {
        return Files.writeString(tmp.resolve(name), content, StandardCharsets.UTF_8);
    }

    @Test
    void goEmotionsJoinedLabelsAreReadAsPythonsCsvModuleReadsThem() {
        // counts from Python's csv module over the same 300 rows: 26 of the 28 labels occur, 52 rows have several
        CsvDataset d = CsvDataset.readMultiLabel(RealBert.resource("/goemotions/train-sample.csv"), "text", EMOTIONS,
                BadRowPolicy.FAIL, null, false);
        assertEquals(300, d.rows().size());
        assertEquals(26, d.labels().size());
        Map<String, Integer> counts = new HashMap<>();
        d.rows().forEach(r -> r.labels().forEach(l -> counts.merge(l, 1, Integer::sum)));
        assertEquals(Map.of("neutral", 114, "admiration", 27, "gratitude", 27, "relief", 1),
                Map.of("neutral", counts.get("neutral"), "admiration", counts.get("admiration"),
                        "gratitude", counts.get("gratitude"), "relief", counts.get("relief")));
        assertEquals(52, d.rows().stream().filter(r -> r.labels().size() > 1).count());
        assertEquals(2, d.rows().get(0).line());
        CsvDataset ekman = CsvDataset.readMultiLabel(RealBert.resource("/goemotions/train-sample.csv"), "text",
                new CsvDataset.LabelSets.Joined("ekman", ";"), BadRowPolicy.FAIL, null, false);
        assertEquals(List.of("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"), ekman.labels());
    }

    @Test
    void aRowsLabelsFollowTheOrderOfTheLabelSet() throws Exception {
        Path f = csv("order.csv", "text,emotions\n\"so good; thanks\",gratitude; joy ;admiration\nmeh,neutral\n");
        List<String> known = List.of("admiration", "gratitude", "joy", "neutral");
        CsvDataset d = CsvDataset.readMultiLabel(f, "text", EMOTIONS, BadRowPolicy.FAIL, known, false);
        assertEquals(List.of("admiration", "gratitude", "joy"), d.rows().get(0).labels());
        assertEquals("so good; thanks", d.rows().get(0).text());
    }

    @Test
    void anUnknownLabelFailsNamingTheFileLineAndLabelOrIsSkipped() throws Exception {
        Path f = csv("unknown.csv", "text,emotions\nfine,joy\nodd,joy;glee\nok,sadness\n");
        List<String> known = List.of("joy", "sadness");
        DataException e = assertThrows(DataException.class, () -> CsvDataset.readMultiLabel(f, "text", EMOTIONS,
                BadRowPolicy.FAIL, known, false));
        assertTrue(e.getMessage().contains("unknown.csv: line 3: unknown label 'glee'"), e.getMessage());
        CsvDataset d = CsvDataset.readMultiLabel(f, "text", EMOTIONS, BadRowPolicy.SKIP, known, false);
        assertEquals(2, d.rows().size());
        assertEquals(Map.of("unknown label", 1), d.skipped());
    }

    @Test
    void anEmptyLabelSetIsABadRowUnlessAllowed() throws Exception {
        Path f = csv("empty.csv", "text,emotions\nfine,joy\nnothing,\n");
        DataException e = assertThrows(DataException.class, () -> CsvDataset.readMultiLabel(f, "text", EMOTIONS,
                BadRowPolicy.FAIL, null, false));
        assertTrue(e.getMessage().contains("empty.csv: line 3: no label"), e.getMessage());
        assertEquals(List.of(), CsvDataset.readMultiLabel(f, "text", EMOTIONS, BadRowPolicy.FAIL, null, true)
                .rows().get(1).labels());
    }

    @Test
    void indicatorColumnsGiveTheLabelsWhoseValueIsOne() throws Exception {
        Path f = csv("toxic.csv", "id,comment,toxic,obscene,insult\n1,hello,0,0,0\n2,you fool,1,0,1\n");
        CsvDataset d = CsvDataset.readMultiLabel(f, "comment", TOXIC, BadRowPolicy.FAIL, null, true);
        assertEquals(List.of(), d.rows().get(0).labels());
        assertEquals(List.of("toxic", "insult"), d.rows().get(1).labels());
        CsvDataset byPrefix = CsvDataset.readMultiLabel(csv("prefixed.csv",
                        "comment,label_toxic,label_insult\nhey,0,1\n"), "comment",
                new CsvDataset.LabelSets.Indicators(List.of(), "label_"), BadRowPolicy.FAIL, null, true);
        assertEquals(List.of("insult"), byPrefix.rows().get(0).labels());
    }

    @Test
    void aValueOtherThanZeroOrOneFailsNamingTheLineLabelAndValue() throws Exception {
        Path f = csv("bad.csv", "comment,toxic,obscene,insult\nok,0,0,0\nhm,0,yes,0\n");
        DataException e = assertThrows(DataException.class, () -> CsvDataset.readMultiLabel(f, "comment", TOXIC,
                BadRowPolicy.FAIL, null, true));
        assertTrue(e.getMessage().contains("bad.csv: line 3: label 'obscene' (column obscene) is 'yes', not 0 or 1"),
                e.getMessage());
        assertEquals(Map.of("label value not 0 or 1", 1), CsvDataset.readMultiLabel(f, "comment", TOXIC,
                BadRowPolicy.SKIP, null, true).skipped());
    }

    @Test
    void aMissingLabelColumnIsNamed() throws Exception {
        Path f = csv("cols.csv", "comment,toxic\nok,0\n");
        DataException e = assertThrows(DataException.class, () -> CsvDataset.readMultiLabel(f, "comment", TOXIC,
                BadRowPolicy.FAIL, null, true));
        assertTrue(e.getMessage().contains("no label column 'obscene'"), e.getMessage());
    }
}
