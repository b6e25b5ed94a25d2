package dev.bertclf.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.app.PredictCommand;
import dev.bertclf.app.ServeApp;
import dev.bertclf.config.Settings;
import dev.bertclf.config.Settings.BadRowPolicy;
import dev.bertclf.CpuFeatures;
import dev.bertclf.data.DataException;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.Classifier;
import dev.bertclf.train.Evaluator;
import dev.bertclf.model.Explainer;
import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.RealBert;
import dev.bertclf.run.RunFolder;
import dev.bertclf.serve.PredictionServer;
import dev.bertclf.TestSettings;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch scoring in a real SparkSession on {@code local[2]}, against {@code Predict} on the same rows of a real run
 * folder: the same labels and probabilities, every row kept, bad rows handled as {@code data.bad-rows} says, and
 * nothing at the output path when a job fails.
 */
@Tag("slow")
class SparkScoringTest {
    static final Path FIXTURE = RealBert.resource("/score/reviews-200.csv");
    static RunFolder run;

    @TempDir
    Path tmp;

    @BeforeAll
    static void trainedRun() throws IOException {
        run = RealBert.tinyRun();
    }

    /** The session on local[2] (a new one after the Score command stopped its own). */
    static SparkSession spark() {
        return SparkSession.builder().master("local[2]").appName("SparkScoringTest")
                .config("spark.ui.enabled", "false").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark().stop();
    }

    static ScoreJob job(RunFolder run, Path input, Path output, BadRowPolicy badRows) {
        return job(run, input, output, badRows, Settings.Precision.FP32);
    }

    static ScoreJob job(RunFolder run, Path input, Path output, BadRowPolicy badRows, Settings.Precision precision) {
        return new ScoreJob(run, input.toString(), output.toString(), "review", badRows,
                Settings.ScoreSettings.of(16, Settings.OutputFormat.AUTO, false, 0), precision, EXPLAIN);
    }

    static final Settings.ExplainSettings EXPLAIN = new Settings.ExplainSettings(16, 16, 0, 2048);

    /** A job that adds the {@code topK} most important words of each row, refused over {@code maxRows} rows. */
    static ScoreJob explainingJob(Path input, Path output, int topK, int maxRows) {
        return new ScoreJob(run, input.toString(), output.toString(), "review", BadRowPolicy.FAIL,
                new Settings.ScoreSettings(4, Settings.OutputFormat.AUTO, false, 0, topK, maxRows),
                Settings.Precision.FP32, EXPLAIN);
    }

    /** Predict's answers on a CSV, by the id column of each input row: label, then one probability per label. */
    static Map<String, List<String>> predictById(RunFolder run, Path input, Path output) throws IOException {
        assertEquals(0, PredictCommand.main(new String[]{run.dir().toString(), input.toString(), output.toString()}));
        List<CSVRecord> in = records(input);
        List<CSVRecord> out = records(output);
        assertEquals(in.size(), out.size());
        Map<String, List<String>> byId = new HashMap<>();
        for (int i = 0; i < in.size(); i++) {
            List<String> answer = new ArrayList<>(out.get(i).toList());
            byId.put(in.get(i).get("id"), answer.subList(1, answer.size()));
        }
        return byId;
    }

    static List<CSVRecord> records(Path csv) throws IOException {
        try (Reader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            return CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).build().parse(r).getRecords();
        }
    }

    /** Checks the scored rows against Predict's answers: same ids, labels, and probabilities within 1e-5. */
    static void assertSameAsPredict(Map<String, List<String>> expected, List<Row> scored) {
        assertEquals(expected.size(), scored.size(), "every row is scored once");
        for (Row r : scored) {
            String id = String.valueOf(r.get(r.fieldIndex("id")));
            List<String> e = expected.get(id);
            assertTrue(e != null, "row " + id + " comes from the input");
            assertEquals(e.get(0), r.getString(r.fieldIndex("label")), "label of row " + id);
            assertEquals(Double.parseDouble(e.get(1)), r.getDouble(r.fieldIndex("p_negative")), 1e-5, "row " + id);
            assertEquals(Double.parseDouble(e.get(2)), r.getDouble(r.fieldIndex("p_positive")), 1e-5, "row " + id);
        }
    }

    @Test
    void twoHundredRowsGetTheLabelsAndProbabilitiesThatPredictGives() throws IOException {
        Map<String, List<String>> expected = predictById(run, FIXTURE, tmp.resolve("predict.csv"));
        Path output = tmp.resolve("scored.parquet");

        ScoreReport report = SparkScoring.score(spark(), job(run, FIXTURE, output, BadRowPolicy.FAIL));

        assertEquals(200, report.rowsRead());
        assertEquals(200, report.scored());
        assertEquals(0, report.skipped());
        assertEquals(Settings.OutputFormat.PARQUET, report.format());
        var table = spark().read().parquet(output.toString());
        assertEquals(List.of("id", "sentiment", "label", "p_negative", "p_positive"), Arrays.asList(table.columns()));
        List<Row> rows = table.collectAsList();
        assertSameAsPredict(expected, rows);
        Map<String, String> sentiment = new HashMap<>();
        records(FIXTURE).forEach(r -> sentiment.put(r.get("id"), r.get("sentiment")));
        rows.forEach(r -> assertEquals(sentiment.get(r.getString(0)), r.getString(1), "passed-through column"));
        assertTrue(rows.stream().map(r -> r.getString(2)).distinct().count() == 2, "both labels occur");
        // two tasks at a time on local[2], each on its own pool thread; libgomp spins between parallel regions only
        // while no more threads run them than there are cores, so passes on both threads made each one slower
        assertEquals(Set.of("bertclf-scoring-passes"),
                ExecutorModels.model(run.dir().toAbsolutePath().toString(), 0, Settings.Precision.FP32).passThreads(),
                "every forward pass runs on the executor's one pass thread");
    }

    @Test
    void withBf16PrecisionTheExecutorsPassesRunInBf16AndAgreeWithPredict() throws IOException {
        CpuFeatures.assumeBf16();
        Path input = writeCsv(tmp.resolve("rows.csv"), records(FIXTURE).subList(0, 40));
        Map<String, List<String>> fp32 = predictById(run, input, tmp.resolve("predict.csv"));
        Path output = tmp.resolve("scored.parquet");
        long before = Bf16Products.computed();

        ScoreReport report = SparkScoring.score(spark(), job(run, input, output, BadRowPolicy.FAIL,
                Settings.Precision.BF16));

        assertEquals(40, report.scored());
        assertTrue(Bf16Products.computed() > before, "the executors' products ran in bf16");
        double largest = 0;
        List<Row> rows = spark().read().parquet(output.toString()).collectAsList();
        assertEquals(40, rows.size());
        for (Row r : rows) {
            List<String> e = fp32.get(r.getString(r.fieldIndex("id")));
            double p32 = Double.parseDouble(e.get(2));
            double p16 = r.getDouble(r.fieldIndex("p_positive"));
            largest = Math.max(largest, Math.abs(p16 - p32));
            if (Math.abs(p32 - 0.5) > 0.1) {
                assertEquals(e.get(0), r.getString(r.fieldIndex("label")), "label of row " + r.get(0));
            }
        }
        assertTrue(largest > 0 && largest < 0.05, "bf16 probabilities within rounding of fp32's: " + largest);
    }

    /**
     * Int8 quantizes each product's activations over the whole batch, as PyTorch's and ONNX Runtime's dynamic
     * quantization do, so a text's probabilities move with the texts batched beside it, by about as much as they
     * move from fp32's: Predict (batches of 32), Serve (one text a request) and Score (batches of 16) each run in
     * int8 and agree within 0.05, with the same labels wherever Predict's probability is further than that from 0.5.
     */
    @Test
    void withInt8PrecisionPredictServeAndScoreRunInInt8AndAgree() throws Exception {
        Path input = writeCsv(tmp.resolve("rows.csv"), records(FIXTURE).subList(0, 40));
        Map<String, List<String>> fp32 = predictById(run, input, tmp.resolve("predict-fp32.csv"));
        long before = Engine.int8Products();
        String key = "bertclf.inference.precision";
        Map<String, List<String>> int8;
        System.setProperty(key, "int8");
        try {
            int8 = predictById(run, input, tmp.resolve("predict-int8.csv"));
        } finally {
            System.clearProperty(key);
        }
        assertTrue(Engine.int8Products() > before, "Predict's products ran in int8");

        Map<String, Double> served = new HashMap<>();
        List<CSVRecord> rows = records(input);
        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=" + run.dir(),
                "inference.precision=int8", "serve.warmup-passes=1"))) {
            HttpClient client = HttpClient.newHttpClient();
            for (CSVRecord r : rows.subList(0, 12)) { // one at a time: batches of one
                HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + server.port() + "/predict")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(new ObjectMapper().writeValueAsString(
                                Map.of("text", r.get("review"))))).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, res.statusCode(), res.body());
                served.put(r.get("id"), new ObjectMapper().readTree(res.body()).get("probabilities").get("positive")
                        .asDouble());
            }
        }
        long beforeScore = Engine.int8Products();
        Path output = tmp.resolve("scored.parquet");
        SparkScoring.score(spark(), job(run, input, output, BadRowPolicy.FAIL, Settings.Precision.INT8));
        assertTrue(Engine.int8Products() > beforeScore, "the executors' products ran in int8");

        double fromFp32 = 0, served8 = 0, scored8 = 0;
        for (Row r : spark().read().parquet(output.toString()).collectAsList()) {
            String id = r.getString(r.fieldIndex("id"));
            double predicted = Double.parseDouble(int8.get(id).get(2));
            double scored = r.getDouble(r.fieldIndex("p_positive"));
            fromFp32 = Math.max(fromFp32, Math.abs(predicted - Double.parseDouble(fp32.get(id).get(2))));
            scored8 = Math.max(scored8, Math.abs(scored - predicted));
            if (served.containsKey(id)) {
                served8 = Math.max(served8, Math.abs(served.get(id) - predicted));
            }
            if (Math.abs(predicted - 0.5) > 0.05) {
                assertEquals(int8.get(id).get(0), r.getString(r.fieldIndex("label")), "label of row " + id);
            }
        }
        String figures = String.format("int8 Predict against fp32 Predict: largest difference %.5f; Score against"
                + " Predict (int8): %.5f; Serve, one text a request, against Predict (int8): %.5f", fromFp32, scored8,
                served8);
        System.out.println(figures);
        assertTrue(fromFp32 > 0 && fromFp32 < 0.05, figures);
        assertTrue(scored8 < 0.05 && served8 < 0.05, figures);
    }

    /**
     * A run that reads long texts in windows: the test evaluation's and Evaluate's probabilities ({@code Evaluator}),
     * Predict's, Serve's (a text a request, and all in one request read pass by pass between other requests) and
     * Score's are the same for every review, each of several windows; a request of more than
     * {@code serve.max-windows} windows is refused with 413.
     */
    @Test
    void aLongTextReadInWindowsGetsTheSameProbabilitiesFromEvaluatePredictServeAndScore() throws Exception {
        RunFolder windowed = RealBert.tinyRunInWindows(tmp.resolve("windowed"), "mean");
        List<CSVRecord> rows = records(FIXTURE).subList(0, 6);
        Path input = writeCsv(tmp.resolve("long.csv"), rows);
        List<LabeledText> labelled = new ArrayList<>();
        for (CSVRecord r : rows) {
            labelled.add(new LabeledText(r.get("review"), r.get("sentiment"), r.getRecordNumber() + 1));
        }
        Classifier c = windowed.classifier(Settings.Precision.FP32);
        float[][] evaluated = Evaluator.scores("windows", c, labelled, 32).probabilities();
        int windows = 0;
        for (CSVRecord r : rows) {
            int w = c.featurizer().windowCount(r.get("review"));
            assertTrue(w >= 2, "row " + r.get("id") + " is read in " + w + " windows");
            windows += w;
        }
        c.release();

        Map<String, List<String>> predicted = predictById(windowed, input, tmp.resolve("predicted.csv"));
        Map<String, Double> servedAlone = new HashMap<>();
        JsonNode servedTogether;
        HttpResponse<String> tooMany;
        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=" + windowed.dir(),
                "serve.warmup-passes=1", "serve.max-windows=" + (windows - 1)))) {
            for (CSVRecord r : rows) {
                servedAlone.put(r.get("id"), post(server, Map.of("text", r.get("review"))).get("probabilities")
                        .get("positive").asDouble());
            }
            servedTogether = post(server, Map.of("texts", rows.stream().limit(rows.size() - 1)
                    .map(r -> r.get("review")).toList()));
            tooMany = send(server, Map.of("texts", rows.stream().map(r -> r.get("review")).toList()));
        }
        assertEquals(413, tooMany.statusCode(), tooMany.body());
        assertTrue(tooMany.body().contains("too many windows: the texts are read in " + windows + " windows"),
                tooMany.body());

        Path output = tmp.resolve("scored.parquet");
        SparkScoring.score(spark(), job(windowed, input, output, BadRowPolicy.FAIL));
        Map<String, Double> scored = new HashMap<>();
        for (Row r : spark().read().parquet(output.toString()).collectAsList()) {
            scored.put(r.getString(r.fieldIndex("id")), r.getDouble(r.fieldIndex("p_positive")));
        }
        for (int i = 0; i < rows.size(); i++) {
            String id = rows.get(i).get("id");
            double expected = evaluated[i][1];
            assertEquals(expected, Double.parseDouble(predicted.get(id).get(2)), 1e-5, "Predict, row " + id);
            assertEquals(expected, servedAlone.get(id), 1e-5, "Serve, row " + id);
            assertEquals(expected, scored.get(id), 1e-5, "Score, row " + id);
            if (i < rows.size() - 1) {
                assertEquals(expected, servedTogether.get(i).get("probabilities").get("positive").asDouble(), 1e-5,
                        "Serve, all in one request, row " + id);
            }
        }
    }

    private static HttpResponse<String> send(PredictionServer server, Object body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/predict")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new ObjectMapper().writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode post(PredictionServer server, Object body) throws Exception {
        HttpResponse<String> res = send(server, body);
        assertEquals(200, res.statusCode(), res.body());
        return new ObjectMapper().readTree(res.body());
    }

    @Test
    void aFolderOfCsvFilesIsScoredIntoCsv() throws IOException {
        List<CSVRecord> fixture = records(FIXTURE);
        Path folder = Files.createDirectories(tmp.resolve("in"));
        writeCsv(folder.resolve("part-a.csv"), fixture.subList(0, 6));
        writeCsv(folder.resolve("part-b.csv"), fixture.subList(6, 12));
        Map<String, List<String>> expected = predictById(run, writeCsv(tmp.resolve("all.csv"), fixture.subList(0, 12)),
                tmp.resolve("predict.csv"));
        Path output = tmp.resolve("scored.csv");

        ScoreReport report = SparkScoring.score(spark(), job(run, folder, output, BadRowPolicy.FAIL));

        assertEquals(Settings.OutputFormat.CSV, report.format());
        assertTrue(Files.isDirectory(output), "Spark writes a folder of part files");
        List<Row> rows = spark().read().option("header", "true").option("inferSchema", "true").csv(output.toString())
                .collectAsList();
        assertEquals(12, report.scored());
        assertSameAsPredict(expected, rows);
    }

    /**
     * Score's top words are, for each row, the 3 words of the explanation of its label with the largest attributions
     * of either sign (sorted here, from the whole explanation that the Explainer gives for the same text), with their
     * character spans; the gap column is that explanation's completeness gap.
     */
    @Test
    void withTopKEachRowCarriesTheWordsThatWeighedMostInItsLabelAndTheGap() throws IOException {
        List<CSVRecord> fixture = records(FIXTURE).subList(0, 6);
        Path output = tmp.resolve("explained.csv");

        ScoreReport report = SparkScoring.score(spark(), explainingJob(writeCsv(tmp.resolve("rows.csv"), fixture),
                output, 3, 6));

        assertEquals(6, report.scored());
        var table = spark().read().option("header", "true").option("multiLine", "true").option("escape", "\"")
                .csv(output.toString());
        assertEquals(List.of("id", "sentiment", "label", "p_negative", "p_positive", "top_words", "completeness_gap"),
                Arrays.asList(table.columns()));
        Map<String, String> texts = new HashMap<>();
        fixture.forEach(r -> texts.put(r.get("id"), r.get("review")));
        ObjectMapper json = new ObjectMapper();
        boolean negativeAmongTop = false;
        try (Explainer explainer = run.explainer(Settings.Precision.FP32, EXPLAIN)) {
            for (Row r : table.collectAsList()) {
                String text = texts.get(r.getString(0));
                Explainer.Explanation whole = explainer.explain(text).explanations().get(0);
                assertEquals(whole.label(), r.getString(2), "the row's label is the one explained");
                List<Explainer.Word> expected = whole.words().stream()
                        .sorted((a, b) -> Double.compare(Math.abs(b.attribution()), Math.abs(a.attribution())))
                        .limit(3).toList();
                JsonNode top = json.readTree(r.getString(5));
                assertEquals(3, top.size(), r.getString(5));
                for (int i = 0; i < 3; i++) {
                    Explainer.Word w = expected.get(i);
                    JsonNode got = top.get(i);
                    assertEquals(whole.label(), got.get("label").asText());
                    assertEquals(w.text(), got.get("word").asText(), "word " + i + " of row " + r.getString(0));
                    assertEquals(w.text(), text.substring(got.get("start").asInt(), got.get("end").asInt()),
                            "the span holds the word");
                    assertEquals(w.attribution(), got.get("attribution").asDouble(), 1e-4);
                    negativeAmongTop |= w.attribution() < 0;
                }
                assertEquals(whole.gap(), Double.parseDouble(r.getString(6)), 1e-4);
            }
        }
        assertTrue(negativeAmongTop, "words against the label rank by their size too");
    }

    @Test
    void aJobThatWouldExplainMoreRowsThanMaxRowsIsRefusedBeforeItStarts() throws IOException {
        Path output = tmp.resolve("out.parquet");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkScoring.score(spark(), explainingJob(FIXTURE, output, 3, 199)));
        assertTrue(e.getMessage().contains("200 rows to explain") && e.getMessage().contains("score.explain.max-rows"),
                e.getMessage());
        assertNothingAt(output);
    }

    static Path writeCsv(Path file, List<CSVRecord> rows) throws IOException {
        StringBuilder sb = new StringBuilder("id,review,sentiment\r\n");
        try (var p = new org.apache.commons.csv.CSVPrinter(sb, CSVFormat.RFC4180)) {
            for (CSVRecord r : rows) {
                p.printRecord(r.get("id"), r.get("review"), r.get("sentiment"));
            }
        }
        return Files.writeString(file, sb);
    }

    static Path badRows(Path dir) throws IOException {
        return Files.writeString(dir.resolve("bad.csv"), """
                id,review,sentiment
                1,"A fine, moving film.",positive
                2,,negative
                3,"Dull and long.",negative,extra
                4,"   ",positive
                5,"Loved every minute.",positive
                """);
    }

    @Test
    void badRowsAreSkippedAndCountedUnderSkip() throws IOException {
        Path output = tmp.resolve("out.parquet");
        ScoreReport report = SparkScoring.score(spark(), job(run, badRows(tmp), output, BadRowPolicy.SKIP));
        assertEquals(5, report.rowsRead());
        assertEquals(3, report.skipped(), "an empty text, a blank text and a row with an extra field");
        assertEquals(2, report.scored());
        assertEquals(List.of("1", "5"), spark().read().parquet(output.toString()).select("id").as(
                org.apache.spark.sql.Encoders.STRING()).collectAsList().stream().sorted().toList());
    }

    @Test
    void anEmptyTextUnderFailStopsTheJobNamingFileAndRowAndWritesNothing() throws IOException {
        Path input = Files.writeString(tmp.resolve("empty-text.csv"),
                "id,review,sentiment\n1,\"Good.\",positive\n2,,negative\n");
        Path output = tmp.resolve("out.parquet");
        DataException e = assertThrows(DataException.class,
                () -> SparkScoring.score(spark(), job(run, input, output, BadRowPolicy.FAIL)));
        assertTrue(e.getMessage().contains("empty-text.csv") && e.getMessage().contains("id=2"), e.getMessage());
        assertNothingAt(output);
    }

    @Test
    void aMalformedRecordUnderFailStopsTheJobNamingTheInput() throws IOException {
        Path output = tmp.resolve("out.parquet");
        DataException e = assertThrows(DataException.class,
                () -> SparkScoring.score(spark(), job(run, badRows(tmp), output, BadRowPolicy.FAIL)));
        assertTrue(e.getMessage().contains("bad.csv") && e.getMessage().contains("Malformed"), e.getMessage());
        assertNothingAt(output);
    }

    @Test
    void aJobThatFailsOnTheExecutorsLeavesNothingAtTheOutputPath() throws IOException {
        Path broken = Files.createDirectories(tmp.resolve("broken-run"));
        try (Stream<Path> files = Files.walk(run.dir())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path to = broken.resolve(run.dir().relativize(f).toString());
                Files.createDirectories(to.getParent());
                Files.copy(f, to);
            }
        }
        Path model = broken.resolve(RunFolder.MODEL);
        Files.write(model, Arrays.copyOf(Files.readAllBytes(model), 4096));
        Path output = tmp.resolve("out.parquet");

        assertThrows(Exception.class,
                () -> SparkScoring.score(spark(), job(new RunFolder(broken), FIXTURE, output, BadRowPolicy.FAIL)));

        assertNothingAt(output);
    }

    static void assertNothingAt(Path output) throws IOException {
        assertFalse(Files.exists(output), output + " must not exist");
        try (Stream<Path> siblings = Files.list(output.getParent())) {
            List<String> staging = siblings.map(p -> p.getFileName().toString())
                    .filter(n -> n.contains(output.getFileName().toString())).toList();
            assertEquals(List.of(), staging, "no staging folder is left behind");
        }
    }

    @Test
    void everyBadInputGetsExitCode2AClearMessageAndNoOutput() throws IOException {
        Path out = tmp.resolve("out.parquet");
        String fixture = FIXTURE.toString();
        Path incomplete = Files.createDirectories(tmp.resolve("incomplete-run"));
        Files.copy(run.file(RunFolder.CONFIG), incomplete.resolve(RunFolder.CONFIG));
        Path headerOnly = Files.writeString(tmp.resolve("header-only.csv"), "id,review,sentiment\n");
        Path corrupt = Files.write(tmp.resolve("corrupt.parquet"), new byte[]{'P', 'A', 'R', '1', 0, 1, 2, 3, 4, 5});
        Path taken = Files.createDirectories(tmp.resolve("taken.parquet"));

        assertBadInput("has no model/model.fb", tmp.resolve("no-such-run").toString(), fixture, out.toString());
        assertBadInput("has no model/model.fb", incomplete.toString(), fixture, out.toString());
        assertBadInput("has no rows", run.dir().toString(), headerOnly.toString(), out.toString());
        assertBadInput("corrupt.parquet", run.dir().toString(), corrupt.toString(), out.toString());
        assertBadInput("input not found", run.dir().toString(), tmp.resolve("none.csv").toString(), out.toString());
        assertBadInput("already exists", run.dir().toString(), fixture, taken.toString());
        System.setProperty("bertclf.data.text-column", "body");
        try {
            assertBadInput("no text column 'body'", run.dir().toString(), fixture, out.toString());
        } finally {
            System.clearProperty("bertclf.data.text-column");
        }
        assertNothingAt(out);
        try (Stream<Path> left = Files.list(taken)) {
            assertEquals(0, left.count(), "an existing output is left as it was");
        }
    }

    private static void assertBadInput(String message, String... args) {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.err;
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = dev.bertclf.app.ScoreCommand.main(args);
        } finally {
            System.setErr(saved);
        }
        String said = err.toString(StandardCharsets.UTF_8);
        System.out.println("Score said: " + said.strip());
        assertEquals(2, code, "exit code for " + message + "; said: " + said);
        assertTrue(said.contains(message), "expected '" + message + "' in: " + said);
    }
}
