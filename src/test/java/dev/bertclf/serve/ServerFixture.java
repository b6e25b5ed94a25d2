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

    /**
     * A stand-in explainer in two passes per text: its words split at spaces, "good" +1 and "bad" -1 toward the
     * label explained (negated for "negative"), others 0; {@code eachPass} runs before each pass (to fail or hold).
     */
    static Explaining fakeExplaining(java.util.function.Consumer<String> eachPass) {
        return (text, label, unit) -> new Explaining.Steps() {
            int passes;

            @Override
            public boolean step() {
                eachPass.accept(text);
                return ++passes == 2;
            }

            @Override
            public dev.bertclf.model.Explainer.Explained result() {
                float[] p = fakeModel(List.of(text))[0];
                int chosen = label != null ? LABELS.indexOf(label) : Task.argMax(p);
                double sign = chosen == 0 ? -1 : 1;
                List<dev.bertclf.model.Explainer.Word> words = new java.util.ArrayList<>();
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\S+").matcher(text);
                double total = 0;
                while (m.find()) {
                    double a = m.group().contains("good") ? sign : m.group().contains("bad") ? -sign : 0;
                    words.add(new dev.bertclf.model.Explainer.Word(m.group(), m.start(), m.end(), a));
                    total += a;
                }
                return new dev.bertclf.model.Explainer.Explained(text, p, List.of(
                        new dev.bertclf.model.Explainer.Explanation(LABELS.get(chosen), p[chosen], words, List.of(),
                                new double[0], total, 0, 0, 32)));
            }
        };
    }

    /** {@link #candidate} that explains with {@code explaining}. */
    static ModelReloader.Candidate explainingCandidate(String id, Predictor predictor, Explaining explaining) {
        return new ModelReloader.Candidate(id, () -> new ServedModel(id, Task.singleLabel(LABELS), predictor,
                Map.of("model", id, "task", "single-label", "labels", LABELS, "base_model", "bert-base-uncased",
                        "base_model_description", "English", "precision", "fp32"), () -> {
        }, () -> explaining));
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

    HttpResponse<String> explain(String json, String... headers) throws Exception {
        return post("/explain", "application/json", json, headers);
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
