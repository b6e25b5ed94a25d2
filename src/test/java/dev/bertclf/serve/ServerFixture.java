package dev.bertclf.serve;

import dev.bertclf.TestSettings;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Task;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** A prediction server on a free loopback port with a stand-in model, and an HTTP client for it. */
final class ServerFixture implements AutoCloseable {
    static final List<String> LABELS = List.of("negative", "neutral", "positive");
    static final String RUN = "test-run";
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

    /** A stand-in model named {@code id} around {@code predictor}, as a run to serve. */
    static ModelReloader.Candidate candidate(String id, Predictor predictor) {
        return new ModelReloader.Candidate(id, () -> ServedModel.of(id, LABELS, predictor,
                Map.of("model", id, "task", "single-label", "labels", LABELS, "base_model",
                        "bert-base-multilingual-cased", "base_model_description", "104 languages",
                        "precision", "fp32")));
    }

    /** Thresholds of {@link #multiLabelCandidate}: neutral is chosen from 0.3 on, the others from 0.5. */
    static final double[] THRESHOLDS = {0.5, 0.3, 0.5};

    /** A stand-in multi-label model: {@link #fakeModel}'s scores read as each label's own probability. */
    static ModelReloader.Candidate multiLabelCandidate(String id, Predictor predictor) {
        Task task = Task.multiLabel(LABELS, THRESHOLDS);
        Map<String, Object> info = new java.util.LinkedHashMap<>(Map.of("model", id, "base_model", "bert-base-uncased",
                "precision", "fp32"));
        info.putAll(task.toMap());
        return new ModelReloader.Candidate(id, () -> new ServedModel(id, task, predictor, info, () -> {
        }));
    }

    ServerFixture(Predictor predictor, String... overrides) {
        this(() -> candidate(RUN, predictor), overrides);
    }

    /** A server of the runs {@code chooser} names, with no warm-up passes unless {@code overrides} ask for them. */
    ServerFixture(Supplier<ModelReloader.Candidate> chooser, String... overrides) {
        String[] all = new String[overrides.length + 2];
        all[0] = "serve.port=0";
        all[1] = "serve.warmup-passes=0";
        System.arraycopy(overrides, 0, all, 2, overrides.length);
        Settings.ServeSettings s = TestSettings.with(all).serve();
        server = Serving.start(s, chooser);
        base = "http://127.0.0.1:" + server.port();
    }

    HttpResponse<String> post(String path, String contentType, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> predict(String json, String... headers) throws Exception {
        return post("/predict", "application/json", json, headers);
    }

    HttpResponse<String> get(String path, String... headers) throws Exception {
        return send("GET", path, headers);
    }

    HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        server.close();
    }
}
