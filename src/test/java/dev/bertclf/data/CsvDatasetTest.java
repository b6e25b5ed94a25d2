package dev.bertclf.data;

import dev.bertclf.config.Settings.BadRowPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CsvDatasetTest {
    static final CsvDataset.Columns IMDB = new CsvDataset.Columns("review", "sentiment");

    @TempDir
    Path tmp;

    private Path csv(String name, String content) throws Exception {
        return Files.writeString(tmp.resolve(name), content, StandardCharsets.UTF_8);
    }

    @Test
    void quotesEmbeddedCommasAndDoubledQuotes() throws Exception {
        Path f = csv("q.csv", "review,sentiment\n\"Great, really \"\"great\"\" film\",positive\nplain text,negative\n");
        CsvDataset d = CsvDataset.read(f, IMDB, BadRowPolicy.FAIL, null);
        assertEquals("Great, really \"great\" film", d.rows().get(0).text());
        assertEquals("positive", d.rows().get(0).label());
        assertEquals(2, d.rows().get(0).line());
        assertEquals(3, d.rows().get(1).line());
    }

    @Test
    void byteOrderMarkDoesNotHideTheFirstColumn() throws Exception {
        Path f = csv("bom.csv", "\uFEFFreview,sentiment\nfine,positive\nbad,negative\n");
        assertEquals(2, CsvDataset.read(f, IMDB, BadRowPolicy.FAIL, null).rows().size());
    }

    @Test
    void columnsAreFoundByNameInAnyOrder() throws Exception {
        Path f = csv("order.csv", "id,sentiment,review\n1,positive,nice\n2,negative,awful\n");
        CsvDataset d = CsvDataset.read(f, IMDB, BadRowPolicy.FAIL, null);
        assertEquals("nice", d.rows().get(0).text());
    }

    @Test
    void emptyTextFailsWithFileAndLine() throws Exception {
        Path f = csv("empty.csv", "review,sentiment\nok,positive\n\"  \",negative\n");
        DataException e = assertThrows(DataException.class, () -> CsvDataset.read(f, IMDB, BadRowPolicy.FAIL, null));
        assertTrue(e.getMessage().contains("empty.csv: line 3: empty text"), e.getMessage());
    }

    @Test
    void missingLabelAndWrongColumnCountAreSkippedAndCounted() throws Exception {
        Path f = csv("skip.csv", "review,sentiment\nok,positive\nno label,\ntoo,many,columns\nfine,negative\n");
        CsvDataset d = CsvDataset.read(f, IMDB, BadRowPolicy.SKIP, null);
        assertEquals(2, d.rows().size());
        assertEquals(Map.of("missing label", 1, "wrong column count", 1), d.skipped());
        DataException e = assertThrows(DataException.class, () -> CsvDataset.read(f, IMDB, BadRowPolicy.FAIL, null));
        assertTrue(e.getMessage().contains("line 3: missing label"), e.getMessage());
    }

    @Test
    void threeClassesAreSortedAndUnknownTestLabelsAreBadRows() throws Exception {
        Path train = csv("three.csv", "review,sentiment\na,neutral\nb,positive\nc,negative\nd,positive\n");
        assertEquals(List.of("negative", "neutral", "positive"),
                CsvDataset.read(train, IMDB, BadRowPolicy.FAIL, null).labels());
        Path test = csv("test.csv", "review,sentiment\na,positive\nb,mixed\n");
        DataException e = assertThrows(DataException.class,
                () -> CsvDataset.read(test, IMDB, BadRowPolicy.FAIL, List.of("negative", "neutral", "positive")));
        assertTrue(e.getMessage().contains("line 3: unknown label 'mixed'"), e.getMessage());
    }

    @Test
    void missingColumnAndMissingFileAreNamed() throws Exception {
        Path f = csv("cols.csv", "text,label\na,b\n");
        DataException e = assertThrows(DataException.class, () -> CsvDataset.read(f, IMDB, BadRowPolicy.FAIL, null));
        assertTrue(e.getMessage().contains("no text column 'review'"), e.getMessage());
        DataException missing = assertThrows(DataException.class,
                () -> CsvDataset.read(tmp.resolve("none.csv"), IMDB, BadRowPolicy.FAIL, null));
        assertTrue(missing.getMessage().contains("none.csv"));
    }

    @Test
    void unterminatedQuoteIsReportedAsMalformed() throws Exception {
        Path f = csv("broken.csv", "review,sentiment\nok,positive\n\"never closed,negative\n");
        DataException e = assertThrows(DataException.class, () -> CsvDataset.read(f, IMDB, BadRowPolicy.SKIP, null));
        assertTrue(e.getMessage().contains("broken.csv"), e.getMessage());
    }

    @Test
    void splitsAreSeededAndDisjoint() {
        List<LabeledText> rows = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rows.add(new LabeledText("t" + i, i % 2 == 0 ? "a" : "b", i + 2));
        }
        Splits.Split s1 = Splits.split(rows, 0.2, 7);
        Splits.Split s2 = Splits.split(rows, 20, 7);
        assertEquals(20, s1.validation().size());
        assertEquals(s1.validation(), s2.validation(), "a fraction and the same count give the same split");
        assertTrue(s1.train().stream().noneMatch(s1.validation()::contains));
        assertEquals(10, Splits.limit(s1.train(), 10, 7).size());
    }
}
