package dev.bertclf.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.RealBert;
import dev.bertclf.TestSettings;
import dev.bertclf.CpuFeatures;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.Classifier;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.run.RunFolder;
import dev.bertclf.serve.PredictionServer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Serve} on a real run: its classifier in this machine's {@code inference.precision}, which it says, and
 * swapped for a freshly loaded one on {@code POST /admin/reload}.
 */
@Tag("slow")
class ServeAppTest {
    @Test
    void aServerStartedWithBf16PrecisionRunsItsPassesInBf16AndSaysSo() throws Exception {
        CpuFeatures.assumeBf16();
        RunFolder run = RealBert.tinyRun();
        List<String> texts = RealBert.reviews(RealBert.IMDB_TEST, 6).stream().map(LabeledText::text).toList();
        float[][] fp32;
        try (Classifier c = run.classifier(Precision.FP32)) {
            fp32 = c.predict(texts);
        }
        long before = Bf16Products.computed();

        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=" + run.dir(),
                "inference.precision=bf16"))) {
            HttpClient client = HttpClient.newHttpClient();
            String body = new ObjectMapper().writeValueAsString(Map.of("texts", texts));
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/predict"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode(), res.body());
            assertTrue(Bf16Products.computed() > before, "the served passes' products ran in bf16");
            JsonNode answers = new ObjectMapper().readTree(res.body());
            double largest = 0;
            for (int i = 0; i < texts.size(); i++) {
                double p16 = answers.get(i).get("probabilities").get("positive").asDouble();
                largest = Math.max(largest, Math.abs(p16 - fp32[i][1]));
                if (Math.abs(fp32[i][1] - 0.5) > 0.1) {
                    assertEquals(fp32[i][1] > 0.5 ? "positive" : "negative", answers.get(i).get("label").asText(),
                            "text " + i);
                }
            }
            assertTrue(largest > 0 && largest < 0.05, "bf16 probabilities within rounding of fp32's: " + largest);
            HttpResponse<String> model = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/model")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("bf16", new ObjectMapper().readTree(model.body()).get("precision").asText(), model.body());
        }
    }

    @Test
    void aReloadOfARealRunSwapsItInAndAnswersAsBefore() throws Exception {
        RunFolder run = RealBert.tinyRun();
        List<String> texts = RealBert.reviews(RealBert.IMDB_TEST, 3).stream().map(LabeledText::text).toList();
        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=" + run.dir(),
                "serve.warmup-passes=2"))) {
            HttpClient client = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            String body = new ObjectMapper().writeValueAsString(Map.of("texts", texts));
            HttpRequest predict = HttpRequest.newBuilder(URI.create(base + "/predict"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
            String before = client.send(predict, HttpResponse.BodyHandlers.ofString()).body();
            HttpResponse<String> reload = client.send(HttpRequest.newBuilder(URI.create(base + "/admin/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, reload.statusCode(), reload.body());
            JsonNode swapped = new ObjectMapper().readTree(reload.body());
            assertEquals(run.id(), swapped.get("model").asText());
            assertEquals(run.id(), swapped.get("previous").asText());
            assertEquals(before, client.send(predict, HttpResponse.BodyHandlers.ofString()).body(),
                    "the reloaded model answers as the one it replaced");
            String metrics = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("bertclf_model_loads_total{result=\"loaded\"} 2.0"), metrics);
            assertTrue(metrics.contains("bertclf_model_info{base_model=\"bert-base-uncased\",model=\"" + run.id()
                    + "\",precision=\"fp32\"} 1"), metrics);
        }
    }

    /** A copy of a run folder as {@code id} under {@code runsDir}, completed at {@code created}, or not completed. */
    static RunFolder copyRun(RunFolder run, java.nio.file.Path runsDir, String id, String created) throws Exception {
        java.nio.file.Path dir = runsDir.resolve(id);
        org.apache.commons.io.FileUtils.copyDirectory(run.dir().toFile(), dir.toFile());
        java.nio.file.Path metrics = dir.resolve(RunFolder.METRICS);
        if (created == null) {
            java.nio.file.Files.delete(metrics);
        } else {
            com.fasterxml.jackson.databind.node.ObjectNode m = (com.fasterxml.jackson.databind.node.ObjectNode)
                    new ObjectMapper().readTree(metrics.toFile());
            m.put("created", created);
            new ObjectMapper().writeValue(metrics.toFile(), m);
        }
        return new RunFolder(dir);
    }

    @Test
    void withServeRunLatestANewerCompleteRunIsSwappedInAndAnUnfinishedOneIsNot(@org.junit.jupiter.api.io.TempDir
                                                                               java.nio.file.Path runs)
            throws Exception {
        RunFolder run = RealBert.tinyRun();
        copyRun(run, runs, "20261201-000000-first", "2026-12-01T00:00:00Z");
        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=latest",
                "serve.watch-interval-ms=200", "serve.warmup-passes=1", "train.runs-dir=" + runs))) {
            HttpClient client = HttpClient.newHttpClient();
            HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health"))
                    .build();
            assertEquals("20261201-000000-first", new ObjectMapper().readTree(client.send(health,
                    HttpResponse.BodyHandlers.ofString()).body()).get("model").asText());
            copyRun(run, runs, "20261203-000000-unfinished", null);
            Thread.sleep(1000);
            assertEquals("20261201-000000-first", new ObjectMapper().readTree(client.send(health,
                    HttpResponse.BodyHandlers.ofString()).body()).get("model").asText(), "no metrics.json: not complete");
            copyRun(run, runs, "20261202-000000-second", "2026-12-02T00:00:00Z");
            String serving = null;
            for (int i = 0; i < 150 && !"20261202-000000-second".equals(serving); i++) {
                Thread.sleep(100);
                serving = new ObjectMapper().readTree(client.send(health, HttpResponse.BodyHandlers.ofString())
                        .body()).get("model").asText();
            }
            assertEquals("20261202-000000-second", serving);
        }
    }

    @Test
    void explainAnswersWordsOfTheTextWhoseAttributionsAddUpAndAShortPredictionIsAnsweredWhileItRuns()
            throws Exception {
        RunFolder run = RealBert.tinyRun();
        List<String> reviews = RealBert.reviews(RealBert.IMDB_TEST, 2).stream().map(LabeledText::text).toList();
        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=" + run.dir(),
                "serve.warmup-passes=0", "explain.steps=64", "explain.max-gap=0",
                "serve.explain.unit-word-pieces=64", "serve.explain.timeout-ms=300000"))) {
            HttpClient client = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.port();
            var explaining = client.sendAsync(post(base + "/explain", Map.of("texts", reviews)),
                    HttpResponse.BodyHandlers.ofString());
            Thread.sleep(1500);
            HttpResponse<String> predicted = client.send(post(base + "/predict", Map.of("text", "A fine film.")),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, predicted.statusCode(), predicted.body());
            assertTrue(!explaining.isDone(), "the prediction was answered between the explanation's passes");
            HttpResponse<String> res = explaining.get();
            assertEquals(200, res.statusCode(), res.body());
            JsonNode answers = new ObjectMapper().readTree(res.body());
            for (int i = 0; i < reviews.size(); i++) {
                JsonNode e = answers.get(i).get("explanations").get(0);
                assertEquals(answers.get(i).get("label").asText(), e.get("label").asText());
                double sum = 0;
                for (JsonNode w : e.get("words")) {
                    assertEquals(reviews.get(i).substring(w.get("start").asInt(), w.get("end").asInt()),
                            w.get("word").asText());
                    sum += w.get("attribution").asDouble();
                }
                double change = e.get("logit").asDouble() - e.get("baseline_logit").asDouble();
                assertEquals(change, sum, 0.05 * Math.abs(change), "completeness, text " + i);
                assertEquals(64, e.get("steps").asInt());
            }
        }
    }

    private static HttpRequest post(String url, Object body) throws Exception {
        return HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new ObjectMapper().writeValueAsString(body))).build();
    }
}
