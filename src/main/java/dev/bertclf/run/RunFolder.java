package dev.bertclf.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.Explainer;
import dev.bertclf.model.GraphNames;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.Task;
import dev.bertclf.model.ModelException;
import dev.bertclf.model.SavedGraphs;
import org.nd4j.autodiff.samediff.SameDiff;

import java.io.IOException;
import java.io.UncheckedIOException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A self-describing training run: {@code <runs-dir>/<yyyyMMdd-HHmmss>-<experiment>/} with the model, the resolved
 * config, labels, vocabulary, base-model descriptor, metrics, evaluation report and curves. {@code metrics.json} is
 * written last: a folder without it is an unfinished (or running) run. Serving loads only from such folders.
 * A run folder carries everything inference needs, so it can be copied to another machine and served there.
 */
public record RunFolder(Path dir) {
    public static final String CONFIG = "config.conf";
    public static final String LABELS = "labels.json";
    public static final String VOCAB = "vocab.txt";
    public static final String BASE_MODEL = "base-model.conf";
    public static final String MODEL = "model/model.fb";
    public static final String METRICS = "metrics.json";
    /** A multi-label run's task: labels and their decision thresholds (written before {@link #METRICS}). */
    public static final String THRESHOLDS = "thresholds.json";
    public static final String EVALUATION = "evaluation.txt";
    public static final String STEPS = "training-steps.csv";
    public static final String EPOCHS = "epochs.csv";
    public static final String CHART = "training-curves.png";
    public static final String LABEL_CHART = "label-f1.png";
    public static final String CHECKPOINT = "checkpoint";
    public static final String LOCK = ".lock";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Creates a new, empty run folder named after the time and the experiment. The folder is claimed with an
     * atomic create, so runs started at the same moment, even in other processes, never share one.
     */
    public static RunFolder create(Path runsDir, String experiment) {
        String base = LocalDateTime.now().format(STAMP) + "-" + experiment.replaceAll("[^A-Za-z0-9._-]", "_");
        try {
            Files.createDirectories(runsDir);
            for (int i = 1; ; i++) {
                Path dir = runsDir.resolve(i == 1 ? base : base + "-" + i);
                try {
                    Files.createDirectory(dir);
                } catch (FileAlreadyExistsException taken) {
                    continue;
                }
                Files.createDirectories(dir.resolve("model"));
                return new RunFolder(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create run folder under " + runsDir.toAbsolutePath(), e);
        }
    }

    /** The newest complete run under {@code runsDir}, by the creation time recorded in its metrics. */
    public static Optional<RunFolder> newest(Path runsDir) {
        if (!Files.isDirectory(runsDir)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(runsDir)) {
            return s.filter(Files::isDirectory).map(RunFolder::new).filter(RunFolder::isComplete)
                    .max(Comparator.comparing(RunFolder::created));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The run to serve or score: {@code chosen} when given, else the newest complete run under {@code runsDir};
     * checked to hold every file inference needs.
     */
    public static RunFolder toServe(Path chosen, Path runsDir) {
        RunFolder run = chosen != null ? new RunFolder(chosen) : newest(runsDir).orElseThrow(() -> new ModelException(
                "No trained model under " + runsDir.toAbsolutePath()
                        + ": run Train first, or set bertclf.serve.run to a run folder"));
        if (!Files.isDirectory(run.dir())) {
            throw new ModelException("Run folder not found: " + run.dir().toAbsolutePath());
        }
        run.requireServable();
        return run;
    }

    /** When the run completed: {@code created} in metrics.json, else the file's modification time. */
    public Instant created() {
        try {
            JsonNode created = JSON.readTree(file(METRICS).toFile()).get("created");
            if (created != null && created.isTextual()) {
                return OffsetDateTime.parse(created.asText()).toInstant();
            }
        } catch (IOException | DateTimeParseException e) {
            // fall back to the file time below
        }
        try {
            return Files.getLastModifiedTime(file(METRICS)).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    /**
     * Claims this run folder for one process (an OS file lock on {@code .lock}, released when the process dies),
     * so a run and a resume of it, or two resumes, never train into the same folder.
     */
    public Lock lock() {
        try {
            FileChannel channel = FileChannel.open(file(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock held;
            try {
                held = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                held = null;
            }
            if (held == null) {
                channel.close();
                throw new ModelException("Run folder " + dir.toAbsolutePath() + " is in use by another training "
                        + "process; wait for it to end, or stop it before resuming");
            }
            return new Lock(channel);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot lock run folder " + dir.toAbsolutePath(), e);
        }
    }

    /** A held run-folder lock. */
    public record Lock(FileChannel channel) implements AutoCloseable {
        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    public String id() {
        return dir.getFileName().toString();
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    public boolean isComplete() {
        return Files.isRegularFile(file(METRICS)) && Files.isRegularFile(file(MODEL));
    }

    /** Checks that the files serving needs are there, naming the first one missing. */
    public void requireServable() {
        for (String f : List.of(MODEL, LABELS, VOCAB, CONFIG, BASE_MODEL, THRESHOLDS)) {
            if (f.equals(THRESHOLDS) && settings().model().task() != Settings.Task.MULTI_LABEL) {
                continue;
            }
            if (!Files.isRegularFile(file(f))) {
                throw new ModelException("Run folder " + dir.toAbsolutePath() + " has no " + f
                        + (Files.isRegularFile(file(METRICS)) ? "" : " (unfinished run?)"));
            }
        }
    }

    /** The settings the run was trained with, read from its {@code config.conf} through the config loader. */
    public Settings settings() {
        return ConfigLoader.loadSaved(file(CONFIG));
    }

    /**
     * The trained classifier, for inference: model, labels, vocabulary, feature settings (at the run's
     * {@code features.inference-max-length}), base-model casing; its passes in {@code precision} (this machine's
     * {@code inference.precision}, not the run's).
     */
    public Classifier classifier(Settings.Precision precision) {
        requireServable();
        Featurizer featurizer = featurizer();
        SameDiff sd = SavedGraphs.load(file(MODEL));
        for (String name : List.of(GraphNames.INPUT_IDS, GraphNames.INPUT_MASK, GraphNames.SEGMENT_IDS,
                GraphNames.PROBS)) {
            if (!sd.hasVariable(name)) {
                throw new ModelException(file(MODEL) + " has no '" + name + "': not a classifier graph");
            }
        }
        return new Classifier(sd, featurizer, task(), precision);
    }

    /**
     * An explainer of the run's classifier ({@link Explainer}), on a graph of its own loaded for it: as much memory
     * again as the classifier's weights.
     */
    public Explainer explainer(Settings.Precision precision, Settings.ExplainSettings settings) {
        requireServable();
        return new Explainer(SavedGraphs.load(file(MODEL)), ModelDescriptor.load(file(BASE_MODEL)).tensors()
                .wordEmbeddings(), featurizer(), task(), precision, settings);
    }

    /**
     * How the run's classifier reads texts: its vocabulary, its base model's casing, its feature settings at the
     * inference length.
     */
    public Featurizer featurizer() {
        return new Featurizer(file(VOCAB), ModelDescriptor.load(file(BASE_MODEL)).normalization(),
                settings().features().atInference());
    }

    /**
     * How the run's classifier decides: single-label over its labels, or multi-label with the thresholds of its
     * {@link #THRESHOLDS} file, checked against its labels.
     */
    public Task task() {
        List<String> labels = labels();
        if (settings().model().task() != Settings.Task.MULTI_LABEL) {
            return Task.singleLabel(labels);
        }
        try {
            JsonNode t = JSON.readTree(file(THRESHOLDS).toFile()).path("thresholds");
            double[] thresholds = new double[labels.size()];
            for (int j = 0; j < labels.size(); j++) {
                JsonNode v = t.get(labels.get(j));
                if (v == null || !v.isNumber() || !(v.asDouble() > 0 && v.asDouble() <= 1)) {
                    throw new ModelException(file(THRESHOLDS) + ": no threshold in (0, 1] for label '"
                            + labels.get(j) + "' (thresholds: " + t + ")");
                }
                thresholds[j] = v.asDouble();
            }
            return Task.multiLabel(labels, thresholds);
        } catch (IOException e) {
            throw new ModelException("Cannot read " + file(THRESHOLDS) + ": " + e.getMessage(), e);
        }
    }

    /** Writes a multi-label task's thresholds, noting what they were chosen on ({@code chosenOn}). */
    public void writeTask(Task task, String chosenOn) {
        Map<String, Object> m = new LinkedHashMap<>(task.toMap());
        m.put("chosen_on", chosenOn);
        writeJson(THRESHOLDS, m);
    }

    public List<String> labels() {
        try {
            return Arrays.asList(JSON.readValue(file(LABELS).toFile(), String[].class));
        } catch (IOException e) {
            throw new ModelException("Cannot read " + file(LABELS) + ": " + e.getMessage(), e);
        }
    }

    public void writeLabels(List<String> labels) {
        writeJson(LABELS, labels);
    }

    /** Writes an object as pretty JSON, atomically. */
    public void writeJson(String name, Object value) {
        AtomicFiles.write(file(name), out -> JSON.writerWithDefaultPrettyPrinter().writeValue(out, value));
    }

    public void writeString(String name, String text) {
        AtomicFiles.writeString(file(name), text);
    }

    public void copy(Path source, String name) {
        AtomicFiles.write(file(name), out -> Files.copy(source, out));
    }
}
