package dev.bertclf.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.model.CpuReport;
import dev.bertclf.model.Explainer;
import dev.bertclf.run.RunFolder;
import dev.bertclf.serve.PredictionServer;
import dev.bertclf.serve.Serving;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Explanations' cost and faithfulness: for each number of steps, each text's completeness gap and time (no doubling,
 * {@code explain.batch-size} points per pass, this machine's {@code inference.precision}); then p50 of short
 * {@code /predict} requests alone and while {@code /explain} runs, A B A B.
 */
public final class ExplainBenchmark {
    private ExplainBenchmark() {
    }

    /** Texts of the run's inference length whose word pieces are within 8 of {@code pieces}. */
    public static List<String> ofLength(RunFolder run, List<String> texts, int pieces, int n) {
        List<String> out = new ArrayList<>();
        Featurizer featurizer = run.featurizer();
        for (String t : texts) {
            if (Math.abs(featurizer.pieces(t).size() - pieces) <= 8 && out.size() < n) {
                out.add(t);
            }
        }
        return out;
    }

    public static void gapAndTime(Settings s, RunFolder run, List<String> texts, List<Integer> steps) {
        System.out.println(CpuReport.current().line());
        System.out.printf("Run %s, %d texts, precision %s, at most %d points and %d word pieces per pass%n", run.dir(),
                texts.size(), Settings.nameOf(s.inference().precision()), s.explain().batchSize(),
                s.explain().passWordPieces());
        System.out.println("| steps | text | word pieces | gap | seconds |");
        System.out.println("| ---: | ---: | ---: | ---: | ---: |");
        List<String> summary = new ArrayList<>();
        int largest = steps.stream().mapToInt(i -> i).max().orElse(1);
        try (Explainer warm = run.explainer(s.inference().precision(), new Settings.ExplainSettings(
                Math.min(8, largest), s.explain().batchSize(), 0, s.explain().passWordPieces()))) {
            warm.explain(texts.get(0)); // the JVM compiles the pass code
        }
        for (int k : steps) {
            List<Double> gaps = new ArrayList<>();
            List<Double> seconds = new ArrayList<>();
            try (Explainer e = run.explainer(s.inference().precision(),
                    new Settings.ExplainSettings(k, s.explain().batchSize(), 0, s.explain().passWordPieces()))) {
                for (int i = 0; i < texts.size(); i++) {
                    long t0 = System.nanoTime();
                    Explainer.Explained x = e.explain(texts.get(i));
                    double sec = (System.nanoTime() - t0) / 1e9;
                    Explainer.Explanation first = x.explanations().get(0);
                    gaps.add(first.gap());
                    seconds.add(sec);
                    System.out.printf(Locale.ROOT, "| %d | %d | %d | %.4f | %.2f |%n", k, i,
                            first.pieces().size(), first.gap(), sec);
                }
            }
            summary.add(String.format(Locale.ROOT, "| %d | %.4f | %.4f | %.2f |", k, Stats.median(gaps),
                    gaps.stream().mapToDouble(d -> d).max().orElse(0), Stats.median(seconds)));
        }
        System.out.println();
        System.out.println("| steps | median gap | largest gap | median seconds per text |");
        System.out.println("| ---: | ---: | ---: | ---: |");
        summary.forEach(System.out::println);
    }

    /** p50 of {@code requests} sequential short predictions, alone (A) and while explanations run (B), A B A B. */
    public static void predictWhileExplaining(Settings s, RunFolder run, List<String> long_, int requests)
            throws Exception {
        System.out.println(CpuReport.current().line());
        ObjectMapper json = new ObjectMapper();
        try (PredictionServer server = Serving.start(s.serve().onLoopback(run.dir(), true),
                s.inference().precision(), s.explain(), () -> run)) {
            String base = "http://127.0.0.1:" + server.port();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            String explainBody = json.writeValueAsString(Map.of("text", long_.get(0)));
            send(client, base + "/explain", explainBody); // loads the explainer
            shortPredictionsAloneAndBeside(client, base, "/explain", explainBody, requests);
        }
    }

    /**
     * p50 and p90 of {@code requests} sequential short predictions, alone (A) and while requests to {@code route}
     * with {@code body} run one after another (B), A B A B.
     */
    public static void shortPredictionsAloneAndBeside(HttpClient client, String base, String route, String body,
                                                      int requests) throws Exception {
        String shortBody = new ObjectMapper().writeValueAsString(Map.of("text", "A fine film, well acted."));
        for (int rep = 1; rep <= 2; rep++) {
            for (boolean beside : new boolean[]{false, true}) {
                AtomicBoolean stop = new AtomicBoolean();
                List<Double> backgroundSeconds = java.util.Collections.synchronizedList(new ArrayList<>());
                Thread background = new Thread(() -> {
                    while (beside && !stop.get()) {
                        long t0 = System.nanoTime();
                        send(client, base + route, body);
                        backgroundSeconds.add((System.nanoTime() - t0) / 1e9);
                    }
                });
                background.start();
                Thread.sleep(beside ? 1000 : 0);
                List<Double> ms = new ArrayList<>();
                for (int i = 0; i < requests; i++) {
                    long t0 = System.nanoTime();
                    send(client, base + "/predict", shortBody);
                    ms.add((System.nanoTime() - t0) / 1e6);
                    Thread.sleep(50);
                }
                stop.set(true);
                background.join();
                System.out.printf(Locale.ROOT, "rep %d %s: /predict p50 %.1f ms, p90 %.1f ms over %d requests%s%n",
                        rep, beside ? "B (while " + route + " runs)" : "A (alone)", Stats.median(ms),
                        Stats.percentile(ms, 90), requests, beside ? String.format(Locale.ROOT, "; %s %s s each",
                                route, backgroundSeconds.stream().map(d -> String.format(Locale.ROOT, "%.1f", d))
                                        .toList()) : "");
            }
        }
    }

    static void send(HttpClient client, String url, String body) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .timeout(Duration.ofMinutes(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
