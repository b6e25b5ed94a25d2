package dev.bertclf.data;

import dev.bertclf.io.AtomicFiles;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
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
import java.net.URLConnection;
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
 * with a seed. Every file is written atomically, so an interrupted download is simply repeated.
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

    /** Downloads (unless the archive is already there) and converts into {@code dir}. */
    public static CsvFiles fetch(String url, Path dir, long seed) {
        Path archive = dir.resolve(ARCHIVE);
        if (!Files.isRegularFile(archive)) {
            download(url, archive);
        }
        return convert(archive, dir, seed);
    }

    /** Downloads {@code url} to {@code target} with a progress bar. */
    public static void download(String url, Path target) {
        log.info("Downloading {} to {}", url, target);
        Path tmp = AtomicFiles.temp(target);
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            URLConnection c = URI.create(url).toURL().openConnection();
            c.setConnectTimeout(30_000);
            c.setReadTimeout(60_000);
            long total = c.getContentLengthLong();
            try (InputStream in = new BufferedInputStream(c.getInputStream());
                 var out = Files.newOutputStream(tmp);
                 ProgressBar bar = new ProgressBarBuilder().setTaskName("Download").setInitialMax(Math.max(total, 0))
                         .setUnit(" MB", 1 << 20).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                         .build()) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    bar.stepBy(n);
                }
            }
            AtomicFiles.commit(tmp, target);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the temp file is named as such and replaced on the next try
            }
            throw new DataException("Download of " + url + " failed: " + e.getMessage(), e);
        }
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
