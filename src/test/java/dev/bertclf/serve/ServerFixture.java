package dev.bertclf.serve;

import dev.bertclf.TestSettings;
import dev.bertclf.config.Settings;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A prediction server on a free loopback port with a stand-in model, and an HTTP client for it. */
final class ServerFixture implements AutoCloseable {
    static final List<String> LABELS = List.of("negative", "neutral", "positive");
    final PredictionServer server;
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final String base;

    /** Probabilities that depend on the text: "good" → positive, "bad" → negative, else neutral. */
    static float[][] fakeModel(List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            out[i] = t.contains("good") ? new float[]{0.1f, 0.2f, 0.7f}
                    : t.contains("bad") ? new float[]{0.8f, 0.1f, 0.1f} : new float[]{0.2f, 0.6f, 0.2f};
        }
        return out;
    }

    ServerFixture(Predictor predictor, String... overrides) {
        String[] all = new String[overrides.length + 1];
        all[0] = "serve.port=0";
        System.arraycopy(overrides, 0, all, 1, overrides.length);
        Settings.ServeSettings s = TestSettings.with(all).serve();
        server = new PredictionServer(s);
        int port = server.start();
        base = "http://127.0.0.1:" + port;
        server.ready(new PredictionServer.Model("test-run", LABELS,
                s.batching() ? new MicroBatcher(predictor, s.maxBatchSize(), s.maxWaitMs(), s.queueCapacity())
                        : new MicroBatcher(predictor, 1, 0, s.queueCapacity()),
                Map.of("model", "test-run", "labels", LABELS, "base_model", "bert-base-multilingual-cased",
                        "base_model_description", "104 languages")));
    }

    HttpResponse<String> post(String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> predict(String json) throws Exception {
        return post("/predict", "application/json", json);
    }

    HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        server.close();
    }
}
