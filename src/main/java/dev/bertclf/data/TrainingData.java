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

    /** Reads single-label data (downloading the IMDB files first when they are missing and download is enabled). */
    public static TrainingData load(Settings.DataSettings d) {
        return load(d, Settings.Task.SINGLE_LABEL);
    }

    /**
     * Reads the data of a {@code task}: for multi-label, each row's label set, from the label column joined by
     * {@code data.label-separator} or from 0/1 columns. The labels are those of the training file.
     */
    public static TrainingData load(Settings.DataSettings d, Settings.Task task) {
        ensureFiles(d);
        CsvDataset trainFile = read(d, task, d.train(), null);
        List<String> labels = trainFile.labels();
        int least = task == Settings.Task.MULTI_LABEL ? 1 : 2;
        if (labels.size() < least) {
            throw new DataException(d.train() + ": a classifier needs at least " + least + " labels, found " + labels);
        }
        Splits.Split split = Splits.split(trainFile.rows(), d.validation(), d.seed());
        List<LabeledText> train = Splits.limit(split.train(), d.trainLimit(), d.seed());
        CsvDataset testFile = read(d, task, d.test(), labels);
        List<LabeledText> test = Splits.limit(testFile.rows(), d.testLimit(), d.seed());
        log.info("Data: labels {}; {} train, {} validation (from {}), {} test (from {})", labels, train.size(),
                split.validation().size(), d.train(), test.size(), d.test());
        return new TrainingData(labels, train, split.validation(), test,
                Map.of(d.train().toString(), trainFile.skipped(), d.test().toString(), testFile.skipped()));
    }

    /**
     * Reads labelled rows of {@code file} as {@code d} describes them for {@code task}; {@code known} (null to take
     * them from the file) makes other labels bad rows.
     */
    public static CsvDataset read(Settings.DataSettings d, Settings.Task task, Path file, List<String> known) {
        if (task == Settings.Task.SINGLE_LABEL) {
            return CsvDataset.read(file, new CsvDataset.Columns(d.textColumn(), d.labelColumn()), d.badRows(), known);
        }
        CsvDataset.LabelSets sets = d.indicatorColumns()
                ? new CsvDataset.LabelSets.Indicators(d.labelColumns(), d.labelPrefix())
                : new CsvDataset.LabelSets.Joined(d.labelColumn(), d.labelSeparator().isEmpty()
                ? "\n" : d.labelSeparator());
        // a row of 0/1 columns that are all 0 says "none of the labels"; an empty joined cell says nothing
        return CsvDataset.readMultiLabel(file, d.textColumn(), sets, d.badRows(), known, d.indicatorColumns());
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
