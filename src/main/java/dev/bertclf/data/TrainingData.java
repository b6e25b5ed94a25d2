package dev.bertclf.data;

import dev.bertclf.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The examples of one run: labels from the training file (sorted), a seeded train/validation split, the test set.
 *
 * @param skipped bad rows skipped, per file and reason
 */
public record TrainingData(List<String> labels, List<LabeledText> train, List<LabeledText> validation,
                           List<LabeledText> test, Map<String, Map<String, Integer>> skipped) {
    private static final Logger log = LoggerFactory.getLogger(TrainingData.class);

    /** Reads (downloading the IMDB files first when they are missing and download is enabled). */
    public static TrainingData load(Settings.DataSettings d) {
        ensureFiles(d);
        CsvDataset.Columns columns = new CsvDataset.Columns(d.textColumn(), d.labelColumn());
        CsvDataset trainFile = CsvDataset.read(d.train(), columns, d.badRows(), null);
        List<String> labels = trainFile.labels();
        if (labels.size() < 2) {
            throw new DataException(d.train() + ": a classifier needs at least 2 labels, found " + labels);
        }
        Splits.Split split = Splits.split(trainFile.rows(), d.validation(), d.seed());
        List<LabeledText> train = Splits.limit(split.train(), d.trainLimit(), d.seed());
        CsvDataset testFile = CsvDataset.read(d.test(), columns, d.badRows(), labels);
        List<LabeledText> test = Splits.limit(testFile.rows(), d.testLimit(), d.seed());
        log.info("Data: labels {}; {} train, {} validation (from {}), {} test (from {})", labels, train.size(),
                split.validation().size(), d.train(), test.size(), d.test());
        return new TrainingData(labels, train, split.validation(), test,
                Map.of(d.train().toString(), trainFile.skipped(), d.test().toString(), testFile.skipped()));
    }

    private static void ensureFiles(Settings.DataSettings d) {
        if (Files.isRegularFile(d.train()) && Files.isRegularFile(d.test())) {
            return;
        }
        if (!d.downloadEnabled()) {
            throw new DataException("Data file not found: "
                    + (Files.isRegularFile(d.train()) ? d.test() : d.train()).toAbsolutePath());
        }
        Path dir = d.downloadDir();
        log.info("{} or {} is missing: downloading the IMDB dataset into {}", d.train(), d.test(), dir);
        ImdbDownload.CsvFiles files = ImdbDownload.fetch(new ImdbDownload.Source(d.downloadUrl(), d.downloadBytes(),
                d.downloadSha256()), dir, d.seed());
        if (!Files.isRegularFile(d.train()) || !Files.isRegularFile(d.test())) {
            throw new DataException("The download wrote " + files.train() + " and " + files.test()
                    + ", but bertclf.data.train/test point at " + d.train() + " and " + d.test());
        }
    }
}
