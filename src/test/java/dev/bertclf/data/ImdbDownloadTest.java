package dev.bertclf.data;

import dev.bertclf.TestSettings;
import dev.bertclf.config.Settings;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The IMDB download path, run against a small local archive in the aclImdb layout. */
class ImdbDownloadTest {
    @TempDir
    Path tmp;

    private Path archive(Map<String, String> files) throws Exception {
        Path a = tmp.resolve("aclImdb_v1.tar.gz");
        try (var out = new TarArchiveOutputStream(new GzipCompressorOutputStream(Files.newOutputStream(a)))) {
            for (var e : files.entrySet()) {
                byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey());
                entry.setSize(b.length);
                out.putArchiveEntry(entry);
                out.write(b);
                out.closeArchiveEntry();
            }
        }
        return a;
    }

    private Path sample() throws Exception {
        return archive(Map.of(
                "aclImdb/README", "not a review",
                "aclImdb/train/pos/0_9.txt", "A \"great\" film, truly.<br /><br />Loved it.",
                "aclImdb/train/neg/1_2.txt", "Dull,\nslow and long.",
                "aclImdb/train/unsup/2_0.txt", "unlabelled, ignored",
                "aclImdb/test/pos/3_8.txt", "Wonderful.",
                "aclImdb/test/neg/4_1.txt", "Awful."));
    }

    @Test
    void downloadsWithTheRealCodePathAndConvertsToCsv() throws Exception {
        Path a = sample();
        Path dir = tmp.resolve("data");
        ImdbDownload.CsvFiles f = ImdbDownload.fetch(a.toUri().toString(), dir, 1);
        assertTrue(Files.isRegularFile(dir.resolve(ImdbDownload.ARCHIVE)), "archive kept for the next run");
        CsvDataset train = CsvDataset.read(f.train(), new CsvDataset.Columns("review", "sentiment"),
                Settings.BadRowPolicy.FAIL, null);
        assertEquals(2, train.rows().size());
        assertEquals(java.util.List.of("negative", "positive"), train.labels());
        assertTrue(train.rows().stream().anyMatch(r -> r.text().equals("A \"great\" film, truly.<br /><br />Loved it.")));
        assertTrue(train.rows().stream().anyMatch(r -> r.text().equals("Dull, slow and long.")), "one line per row");
        assertEquals(2, CsvDataset.read(f.test(), new CsvDataset.Columns("review", "sentiment"),
                Settings.BadRowPolicy.FAIL, null).rows().size());
    }

    @Test
    void trainingDataDownloadsWhenTheFilesAreMissing() throws Exception {
        Path a = sample();
        Path dir = tmp.resolve("imdb");
        Settings s = TestSettings.with("data.train=" + dir.resolve("train.csv"), "data.test=" + dir.resolve("test.csv"),
                "data.download.url=" + a.toUri(), "data.download.dir=" + dir, "data.validation=0");
        TrainingData d = TrainingData.load(s.data());
        assertEquals(2, d.train().size());
        assertEquals(2, d.test().size());
    }

    @Test
    void aFailedDownloadLeavesNothingBehind() {
        Path dir = tmp.resolve("d");
        DataException e = assertThrows(DataException.class,
                () -> ImdbDownload.fetch(tmp.resolve("missing.tar.gz").toUri().toString(), dir, 1));
        assertTrue(e.getMessage().contains("missing.tar.gz"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve(ImdbDownload.ARCHIVE)));
    }

    @Test
    void anArchiveWithoutReviewsIsRefused() throws Exception {
        Path a = archive(Map.of("something/else.txt", "x"));
        DataException e = assertThrows(DataException.class, () -> ImdbDownload.convert(a, tmp, 1));
        assertTrue(e.getMessage().contains("no aclImdb/train"), e.getMessage());
    }
}
