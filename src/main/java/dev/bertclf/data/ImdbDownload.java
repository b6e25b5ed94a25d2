package dev.bertclf.data;

import dev.bertclf.io.AtomicFiles;
import dev.bertclf.io.Download;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads the Large Movie Review Dataset (aclImdb_v1.tar.gz) and converts it into {@code train.csv} and
 * {@code test.csv} with columns {@code review,sentiment} (values {@code positive}/{@code negative}), rows shuffled
 * with a seed. The archive is verified by size and SHA-256; every file is written atomically, so an interrupted
 * download is simply repeated.
 */
public final class ImdbDownload {
    private static final Logger log = LoggerFactory.getLogger(ImdbDownload.class);
    public static final String ARCHIVE = "aclImdb_v1.tar.gz";
    private static final Pattern REVIEW = Pattern.compile("(?:^|/)aclImdb/(train|test)/(pos|neg)/[^/]+\\.txt$");

    private ImdbDownload() {
    }

    /** The CSV files a conversion writes into {@code dir}. */
    public record CsvFiles(Path train, Path test) {
    }

    /**
     * Where the archive comes from and what it must be.
     *
     * @param bytes  expected size (0 = unchecked)
     * @param sha256 expected SHA-256 in lower-case hex ("" = unchecked)
     */
    public record Source(String url, long bytes, String sha256) {
    }

    /**
     * Downloads (unless a verified archive is already there) and converts into {@code dir}. An archive that fails
     * verification, such as one truncated by an earlier interrupted run, is deleted and downloaded again.
     */
    public static CsvFiles fetch(Source source, Path dir, long seed) {
        Path archive = dir.resolve(ARCHIVE);
        if (Files.isRegularFile(archive)) {
            String problem = verify(archive, source);
            if (problem != null) {
                log.warn("{} {}: deleting it and downloading again", archive, problem);
                AtomicFiles.deleteRecursively(archive);
            }
        }
        if (!Files.isRegularFile(archive)) {
            download(source, archive, dir);
        }
        return convert(archive, dir, seed);
    }

    /** Downloads {@code source} to {@code target} with a progress bar, verified before it is moved into place. */
    public static void download(Source source, Path target, Path dataDir) {
        log.info("Downloading {} to {}", source.url(), target);
        try {
            Download.to(URI.create(source.url()), target, expected(source), "Download");
        } catch (Download.Failure e) {
            throw new DataException("Download of " + source.url() + " failed: " + e.getMessage() + ". Instead, put "
                    + "train.csv and test.csv (columns review,sentiment) under " + dataDir.toAbsolutePath()
                    + ", or set bertclf.data.train and bertclf.data.test to your CSV files", e);
        }
    }

    /** Null if the file has the expected size and SHA-256, else what is wrong with it. */
    static String verify(Path file, Source source) {
        return Download.verify(file, expected(source));
    }

    private static Download.Expected expected(Source source) {
        return new Download.Expected(source.bytes(), "SHA-256", source.sha256() == null ? "" : source.sha256());
    }

    /** Converts the archive's {@code aclImdb/{train,test}/{pos,neg}/*.txt} reviews into two CSV files. */
    public static CsvFiles convert(Path archive, Path dir, long seed) {
        List<LabeledText> train = new ArrayList<>();
        List<LabeledText> test = new ArrayList<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(archive));
             TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                Matcher m = REVIEW.matcher(e.getName());
                if (e.isFile() && m.find()) {
                    String text = new String(tar.readAllBytes(), StandardCharsets.UTF_8).trim();
                    String label = m.group(2).equals("pos") ? "positive" : "negative";
                    (m.group(1).equals("train") ? train : test).add(new LabeledText(text, label, 0));
                }
            }
        } catch (IOException e) {
            throw new DataException(archive + " is not a readable aclImdb .tar.gz archive: " + e.getMessage(), e);
        }
        if (train.isEmpty() || test.isEmpty()) {
            throw new DataException(archive + " holds no aclImdb/train and aclImdb/test reviews");
        }
        CsvFiles out = new CsvFiles(dir.resolve("train.csv"), dir.resolve("test.csv"));
        writeCsv(Splits.shuffled(train, seed), out.train());
        writeCsv(Splits.shuffled(test, seed), out.test());
        log.info("Converted {}: {} train and {} test reviews into {}", archive, train.size(), test.size(), dir);
        return out;
    }

    private static void writeCsv(List<LabeledText> rows, Path file) {
        AtomicFiles.write(file, os -> {
            var w = new OutputStreamWriter(os, StandardCharsets.UTF_8);
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180.builder().setHeader("review", "sentiment")
                    .build())) {
                for (LabeledText r : rows) {
                    p.printRecord(r.text().replace("\r", " ").replace("\n", " "), r.label());
                }
            }
        });
    }
}
