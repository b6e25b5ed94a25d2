package dev.bertclf.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.WindowPooling;
import dev.bertclf.config.Settings.WindowSettings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.CpuReport;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.SavedGraphs;
import dev.bertclf.model.Task;
import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.run.RunFolder;
import dev.bertclf.serve.PredictionServer;
import dev.bertclf.serve.Serving;
import org.nd4j.autodiff.samediff.SameDiff;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Long texts, cut or read in windows: one run's classifier over labelled texts, read by truncation at 128, 256 and
 * 512 word pieces and in windows of 128 (stride 64 over the whole text; stride 128, at most 4, the compute of
 * truncation at 512), each evaluated as the product evaluates (length-sorted batches of 32 texts,
 * {@link Classifier#read}), A B A B. The windows' logits of one evaluation are pooled four ways (mean or max, of logits
 * or of probabilities), so that the choice of {@code features.window-pooling} rests on the same passes.
 */
public final class LongTextBenchmark {
    private static final int BATCH = 32;

    private LongTextBenchmark() {
    }

    /** One way of reading the texts. */
    private record Reading(String name, FeatureSettings features) {
    }

    public static void run(RunFolder run, List<LabeledText> rows, Settings.Precision precision, int repetitions) {
        System.out.println(CpuReport.current().line());
        FeatureSettings base = run.settings().features();
        List<Reading> readings = List.of(
                new Reading("truncate 128", at(base, 128)),
                new Reading("truncate 256", at(base, 256)),
                new Reading("truncate 512", at(base, 512)),
                new Reading("windows 128, stride 64", at(base, 128).inWindows(new WindowSettings(128, 64,
                        WindowPooling.MEAN, 1000))),
                new Reading("windows 128, stride 128, at most 4", at(base, 128).inWindows(new WindowSettings(128,
                        128, WindowPooling.MEAN, 4))));
        System.out.printf(Locale.ROOT, "Run %s, %d texts, precision %s, %s truncation, %d repetitions%n", run.dir(),
                rows.size(), Settings.nameOf(precision), Settings.nameOf(base.truncation()), repetitions);
        SameDiff sd = SavedGraphs.load(run.file(RunFolder.MODEL));
        Task task = run.task();
        Map<String, Classifier> classifiers = new LinkedHashMap<>();
        for (Reading r : readings) {
            classifiers.put(r.name(), new Classifier(sd, new Featurizer(run.file(RunFolder.VOCAB),
                    ModelDescriptor.load(run.file(RunFolder.BASE_MODEL)).normalization(), r.features()), task,
                    precision));
        }
        evaluate(classifiers.get("truncate 128"), rows.subList(0, Math.min(64, rows.size())), task); // JIT warm-up
        System.out.println("| reading | repetition | seconds | passes' rows | accuracy: mean of logits | max of logits"
                + " | mean of probabilities | max of probabilities |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        for (int rep = 1; rep <= repetitions; rep++) {
            for (Reading r : readings) {
                Result res = evaluate(classifiers.get(r.name()), rows, task);
                seconds.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(res.seconds());
                System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %d | %.4f | %.4f | %.4f | %.4f |%n", r.name(), rep,
                        res.seconds(), res.rows(), res.accuracy()[0], res.accuracy()[1], res.accuracy()[2],
                        res.accuracy()[3]);
            }
        }
        System.out.println("Median seconds: " + String.join(", ", seconds.entrySet().stream().map(e ->
                String.format(Locale.ROOT, "%s %.1f", e.getKey(), Stats.median(e.getValue()))).toList()));
        System.out.printf(Locale.ROOT, "Peak RSS %.2f GB%n", Stats.peakRssGb());
        classifiers.values().forEach(Classifier::close);
    }

    /**
     * {@code run}'s classifier as a run folder in {@code dir} whose features read long texts as {@code features}
     * (HOCON, e.g. {@code long-text = windows}) says: its files linked, its {@code config.conf} with those settings
     * added. The run itself is not changed.
     */
    public static RunFolder readingAs(RunFolder run, Path dir, String features) throws IOException {
        Path copy = Files.createDirectories(dir.resolve(run.dir().getFileName()));
        try (var files = Files.walk(run.dir())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path to = copy.resolve(run.dir().relativize(f).toString());
                Files.createDirectories(to.getParent());
                if (f.getFileName().toString().equals(RunFolder.CONFIG)) {
                    Files.writeString(to, Files.readString(f) + "\nbertclf.features { " + features + " }\n");
                } else {
                    Files.createSymbolicLink(to, f.toAbsolutePath());
                }
            }
        }
        return new RunFolder(copy);
    }

    /**
     * p50 of short /predict requests alone and beside requests of one long review read in windows of 128 (stride 64,
     * the most windows {@code features.max-windows} allows), A B A B: a long text's passes must not hold short ones
     * up.
     */
    public static void shortBesideLong(Settings s, RunFolder run, List<String> reviews, int requests)
            throws Exception {
        System.out.println(CpuReport.current().line());
        RunFolder windowed = readingAs(run, Files.createTempDirectory("long-text"),
                "long-text = windows, window = 128, stride = 64");
        Featurizer f = windowed.featurizer();
        String longest = reviews.stream().max(Comparator.comparingInt(f::windowCount)).orElseThrow();
        System.out.printf(Locale.ROOT, "Long request: one review of %d characters, %d windows of 128; passes of at"
                + " most %d windows; precision %s%n", longest.length(), f.windowCount(longest),
                Math.max(1, s.serve().longTextUnitWordPieces() / 128), Settings.nameOf(s.inference().precision()));
        try (PredictionServer server = Serving.start(s.serve().onLoopback(windowed.dir(), true),
                s.inference().precision(), s.explain(), () -> windowed)) {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            ExplainBenchmark.shortPredictionsAloneAndBeside(client, "http://127.0.0.1:" + server.port(), "/predict",
                    new ObjectMapper().writeValueAsString(Map.of("text", longest)), requests);
        }
    }

    private static FeatureSettings at(FeatureSettings base, int length) {
        return new FeatureSettings(length, base.truncation(), base.headFraction(), base.padding(),
                base.stripHtmlBreaks(), length, Settings.LongText.TRUNCATE, WindowSettings.DEFAULT);
    }

    /** Accuracy with the rows' logits pooled as mean/max of logits, mean/max of probabilities. */
    private record Result(double seconds, long rows, double[] accuracy) {
    }

    private static Result evaluate(Classifier c, List<LabeledText> rows, Task task) {
        int[] byLength = IntStream.range(0, rows.size()).boxed()
                .sorted(Comparator.comparingInt(i -> rows.get(i).text().length())).mapToInt(i -> i).toArray();
        int[] correct = new int[4];
        long passRows = 0;
        long start = System.nanoTime();
        for (int from = 0; from < byLength.length; from += BATCH) {
            int[] batch = Arrays.copyOfRange(byLength, from, Math.min(byLength.length, from + BATCH));
            List<String> texts = IntStream.of(batch).mapToObj(i -> rows.get(i).text()).toList();
            Classifier.Reading reading = c.read(texts, Classifier.passRows(texts.size()));
            while (!reading.step()) {
                // one pass a step
            }
            passRows += reading.batch().rows();
            List<float[][]> pooled = pooledFourWays(reading, task);
            for (int k = 0; k < batch.length; k++) {
                String truth = rows.get(batch[k]).label();
                for (int v = 0; v < 4; v++) {
                    if (task.labels().get(Task.argMax(pooled.get(v)[k])).equals(truth)) {
                        correct[v]++;
                    }
                }
            }
            Engine.afterInferenceBatch();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(seconds, passRows, Arrays.stream(correct).mapToDouble(n -> n / (double) rows.size())
                .toArray());
    }

    private static List<float[][]> pooledFourWays(Classifier.Reading reading, Task task) {
        float[][] logits = reading.rowLogits();
        float[][] probabilities = Arrays.stream(logits).map(task::probabilities).toArray(float[][]::new);
        int[] textOf = reading.batch().textOfRow();
        int texts = reading.batch().texts();
        return List.of(Classifier.pool(logits, textOf, texts, WindowPooling.MEAN),
                Classifier.pool(logits, textOf, texts, WindowPooling.MAX),
                Classifier.pool(probabilities, textOf, texts, WindowPooling.MEAN),
                Classifier.pool(probabilities, textOf, texts, WindowPooling.MAX));
    }
}
