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
        ImdbDownload.CsvFiles f = ImdbDownload.fetch(source(a), dir, 1);
        assertTrue(Files.isRegularFile(dir.resolve(ImdbDownload.ARCHIVE)), "archive kept for the next run");
        CsvDataset train = CsvDataset.read(f.train(), new CsvDataset.Columns("review", "sentiment"),
                Settings.BadRowPolicy.FAIL, null);
        assertEquals(2, train.rows().size());
        assertEquals(java.util.List.of("negative", "positive"), train.labels());
        assertTrue(train.rows().stream().anyMatch(r -> r.text().equals(
                "A \"great\" film, truly.<br /><br />Loved it.")));
        assertTrue(train.rows().stream().anyMatch(r -> r.text().equals("Dull, slow and long.")), "one line per row");
        assertEquals(2, CsvDataset.read(f.test(), new CsvDataset.Columns("review", "sentiment"),
                Settings.BadRowPolicy.FAIL, null).rows().size());
    }

    @Test
    void trainingDataDownloadsWhenTheFilesAreMissing() throws Exception {
        Path a = sample();
        Path dir = tmp.resolve("imdb");
        Settings s = TestSettings.with("data.train=" + dir.resolve("train.csv"), "data.test=" + dir.resolve("test.csv"),
                "data.download.url=" + a.toUri(), "data.download.dir=" + dir, "data.validation=0",
                "data.download.bytes=" + Files.size(a), "data.download.sha256=" + sha256(a));
        TrainingData d = TrainingData.load(s.data());
        assertEquals(2, d.train().size());
        assertEquals(2, d.test().size());
    }

    @Test
    void aFailedDownloadLeavesNothingBehind() {
        Path dir = tmp.resolve("d");
        DataException e = assertThrows(DataException.class,
                () -> ImdbDownload.fetch(new ImdbDownload.Source(tmp.resolve("missing.tar.gz").toUri().toString(), 0,
                        ""), dir, 1));
        assertTrue(e.getMessage().contains("missing.tar.gz"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve(ImdbDownload.ARCHIVE)));
    }

    @Test
    void anArchiveWithoutReviewsIsRefused() throws Exception {
        Path a = archive(Map.of("something/else.txt", "x"));
        DataException e = assertThrows(DataException.class, () -> ImdbDownload.convert(a, tmp, 1));
        assertTrue(e.getMessage().contains("no aclImdb/train"), e.getMessage());
    }

    /** The archive as a download source, with its true size and SHA-256. */
    private static ImdbDownload.Source source(Path archive) throws Exception {
        return new ImdbDownload.Source(archive.toUri().toString(), Files.size(archive), sha256(archive));
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }

    @Test
    void aDownloadWithTheWrongChecksumIsDeletedAndNamed() throws Exception {
        Path a = sample();
        Path dir = tmp.resolve("bad");
        ImdbDownload.Source wrong = new ImdbDownload.Source(a.toUri().toString(), Files.size(a), "0".repeat(64));
        DataException e = assertThrows(DataException.class, () -> ImdbDownload.fetch(wrong, dir, 1));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        assertTrue(e.getMessage().contains("bertclf.data.train"), "says what to do instead: " + e.getMessage());
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "nothing left behind");
        }
    }

    @Test
    void aTruncatedArchiveFromAnEarlierRunIsReplacedByAFreshDownload() throws Exception {
        Path a = sample();
        Path dir = Files.createDirectories(tmp.resolve("again"));
        byte[] whole = Files.readAllBytes(a);
        Files.write(dir.resolve(ImdbDownload.ARCHIVE), java.util.Arrays.copyOf(whole, whole.length / 2));
        ImdbDownload.CsvFiles f = ImdbDownload.fetch(source(a), dir, 1);
        assertEquals(sha256(a), sha256(dir.resolve(ImdbDownload.ARCHIVE)));
        assertTrue(Files.isRegularFile(f.train()));
    }

    @Test
    void anHttpErrorIsNamedWithItsStatus() throws Exception {
        com.sun.net.httpserver.HttpServer http = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", x -> {
            x.sendResponseHeaders(404, -1);
            x.close();
        });
        http.start();
        try {
            String url = "http://127.0.0.1:" + http.getAddress().getPort() + "/aclImdb_v1.tar.gz";
            DataException e = assertThrows(DataException.class,
                    () -> ImdbDownload.fetch(new ImdbDownload.Source(url, 0, ""), tmp.resolve("h"), 1));
            assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
        } finally {
            http.stop(0);
        }
    }

    @Test
    void anUnknownHostIsNamed() {
        DataException e = assertThrows(DataException.class, () -> ImdbDownload.fetch(new ImdbDownload.Source(
                "http://no-such-host.invalid/aclImdb_v1.tar.gz", 0, ""), tmp.resolve("u"), 1));
        assertTrue(e.getMessage().contains("unknown host no-such-host.invalid"), e.getMessage());
        assertTrue(e.getMessage().contains("put train.csv and test.csv"), e.getMessage());
    }
}
