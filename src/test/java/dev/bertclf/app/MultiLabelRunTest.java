package dev.bertclf.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.RealBert;
import dev.bertclf.TestSettings;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Task;
import dev.bertclf.run.RunFolder;
import dev.bertclf.score.ScoreJob;
import dev.bertclf.score.SparkScoring;
import dev.bertclf.serve.PredictionServer;
import dev.bertclf.train.TrainingState;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real multi-label fine-tune (BERT-base's first 2 layers on 240 GoEmotions comments, thresholds tuned on a carved
 * validation split), then every surface on its 60 test comments: the loss falls; thresholds.json is read back as
 * the test metrics used it; the test macro F1 in metrics.json equals one computed here, by hand, from Predict's
 * probabilities; Predict, Serve and Score give the same labels and probabilities.
 */
@Tag("slow")
class MultiLabelRunTest {
    static RealBert.TinyGoEmotions data;
    static TrainingApp.Result result;

    @BeforeAll
    static void train(@TempDir Path dir) throws IOException {
        data = RealBert.tinyGoEmotions(dir);
        result = TrainingApp.run(TestSettings.with("experiment=tiny-goemotions", "model.task=multi-label",
                "model.threshold=tuned", "model.encoder-layers=2", "data.train=" + data.train(),
                "data.test=" + data.test(), "data.text-column=text", "data.label-column=emotions",
                "data.label-separator=;", "data.validation=60", "data.download.enabled=false",
                "features.max-length=32", "features.truncation=head", "train.epochs=2", "train.batch-size=16",
                "train.learning-rate=2e-4", "train.schedule=constant", "train.warmup=0", "train.checkpoint-every=0",
                "train.eval-batch-size=16", "train.keep-best=false", "train.runs-dir=" + dir.resolve("runs")));
    }

    @Test
    void theBinaryCrossEntropyFallsOverTraining() {
        List<TrainingState.Step> steps = result.state().steps();
        double first = steps.subList(0, 3).stream().mapToDouble(TrainingState.Step::loss).average().orElseThrow();
        double last = steps.subList(steps.size() - 3, steps.size()).stream().mapToDouble(TrainingState.Step::loss)
                .average().orElseThrow();
        assertTrue(first > 0.5 && last < 0.6 * first, "loss of the first 3 steps " + first + ", of the last 3 " + last);
    }

    @Test
    void theSavedThresholdsAreThoseTheTestMetricsUsedAndPredictTheTestMacroF1ByHand() throws Exception {
        RunFolder run = result.run();
        Task task = run.task();
        assertTrue(task.multiLabel());
        assertTrue(Arrays.stream(task.thresholds()).anyMatch(t -> t != 0.5), "tuned: " + task);
        JsonNode metrics = new ObjectMapper().readTree(run.file(RunFolder.METRICS).toFile());
        assertEquals("multi-label", metrics.get("task").asText());
        JsonNode used = metrics.get("test").get("thresholds");
        for (int j = 0; j < task.labels().size(); j++) {
            assertEquals(task.thresholds()[j], used.get(task.labels().get(j)).asDouble(), 0.0, task.labels().get(j));
        }
        assertTrue(Files.getLastModifiedTime(run.file(RunFolder.THRESHOLDS)).toMillis()
                <= Files.getLastModifiedTime(run.file(RunFolder.METRICS)).toMillis(), "thresholds before metrics");

        Path predicted = Files.createTempDirectory("predict").resolve("out.csv");
        assertEquals(0, PredictCommand.main(new String[]{run.dir().toString(), data.test().toString(),
                predicted.toString()}));
        List<CSVRecord> truth = records(data.test());
        List<CSVRecord> out = records(predicted);
        assertEquals(truth.size(), out.size());
        List<String> labels = task.labels();
        int[] tp = new int[labels.size()];
        int[] fp = new int[labels.size()];
        int[] fn = new int[labels.size()];
        for (int i = 0; i < out.size(); i++) {
            List<String> chosen = new ArrayList<>();
            List<String> actual = List.of(truth.get(i).get("emotions").split(";"));
            for (int j = 0; j < labels.size(); j++) {
                boolean p = Double.parseDouble(out.get(i).get("p_" + labels.get(j))) >= task.thresholds()[j];
                boolean t = actual.contains(labels.get(j));
                if (p) {
                    chosen.add(labels.get(j));
                }
                tp[j] += p && t ? 1 : 0;
                fp[j] += p && !t ? 1 : 0;
                fn[j] += !p && t ? 1 : 0;
            }
            assertEquals(String.join(";", chosen), out.get(i).get("labels"), "labels of row " + (i + 1));
        }
        double sum = 0;
        for (int j = 0; j < labels.size(); j++) {
            sum += tp[j] == 0 ? 0 : 2.0 * tp[j] / (2.0 * tp[j] + fp[j] + fn[j]);
        }
        // Predict prints 6 decimals: a probability within 5e-7 of a threshold could fall either way
        assertEquals(sum / labels.size(), metrics.get("test").get("macro_f1").asDouble(), 1e-9,
                "macro F1 over every label, absent ones as 0");
        assertNotEquals(0.0, sum, "some label is predicted right");
    }

    @Test
    void predictServeAndScoreGiveTheSameLabelsAndProbabilities() throws Exception {
        RunFolder run = result.run();
        Path predicted = Files.createTempDirectory("predict").resolve("out.csv");
        assertEquals(0, PredictCommand.main(new String[]{run.dir().toString(), data.test().toString(),
                predicted.toString()}));
        List<CSVRecord> predict = records(predicted);
        List<CSVRecord> input = records(data.test());
        List<String> labels = run.labels();

        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=" + run.dir()))) {
            HttpClient client = HttpClient.newHttpClient();
            List<String> texts = input.stream().map(r -> r.get("text")).toList();
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/predict"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(new ObjectMapper().writeValueAsString(
                            Map.of("texts", texts)))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode(), res.body());
            JsonNode answers = new ObjectMapper().readTree(res.body());
            for (int i = 0; i < texts.size(); i++) {
                JsonNode a = answers.get(i);
                List<String> served = new ArrayList<>();
                a.get("labels").forEach(l -> served.add(l.asText()));
                assertEquals(predict.get(i).get("labels"), String.join(";", served), "served labels of row " + i);
                assertTrue(a.get("label") == null, "a multi-label answer has no single label");
                for (String l : labels) {
                    assertEquals(Double.parseDouble(predict.get(i).get("p_" + l)),
                            a.get("probabilities").get(l).asDouble(), 1e-5, l + " of row " + i);
                }
            }
            JsonNode model = new ObjectMapper().readTree(client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/model")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("multi-label", model.get("task").asText());
            Task task = run.task();
            for (int j = 0; j < labels.size(); j++) {
                assertEquals(task.thresholds()[j], model.get("thresholds").get(labels.get(j)).asDouble(), 0.0);
            }
        }

        Path scored = Files.createTempDirectory("score").resolve("scored.csv");
        SparkSession spark = SparkSession.builder().master("local[2]").appName("MultiLabelRunTest")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            SparkScoring.score(spark, new ScoreJob(run, data.test().toString(), scored.toString(), "text",
                    Settings.BadRowPolicy.FAIL, Settings.ScoreSettings.of(16, Settings.OutputFormat.CSV, false, 0),
                    Settings.Precision.FP32, new Settings.ExplainSettings(32, 16, 0.05, 2048)));
            List<String> columns = new ArrayList<>(List.of("id", "emotions", "labels"));
            labels.forEach(l -> columns.add("p_" + l));
            var table = spark.read().option("header", "true").csv(scored.toString());
            assertEquals(columns, Arrays.asList(table.columns()));
            Map<String, Integer> rowOf = new HashMap<>();
            for (int i = 0; i < input.size(); i++) {
                rowOf.put(input.get(i).get("id"), i);
            }
            List<Row> rows = table.collectAsList();
            assertEquals(input.size(), rows.size());
            for (Row r : rows) {
                CSVRecord p = predict.get(rowOf.get(r.getString(0)));
                assertEquals(p.get("labels"), r.getString(2) == null ? "" : r.getString(2), "scored labels");
                for (int j = 0; j < labels.size(); j++) {
                    assertEquals(Double.parseDouble(p.get("p_" + labels.get(j))),
                            Double.parseDouble(r.getString(3 + j)), 1e-5);
                }
            }
        } finally {
            spark.stop();
        }
    }

    static List<CSVRecord> records(Path csv) throws IOException {
        try (Reader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            return CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).build().parse(r).getRecords();
        }
    }
}
