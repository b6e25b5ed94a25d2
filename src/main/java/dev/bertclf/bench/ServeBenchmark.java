package dev.bertclf.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.data.LabeledText;
import dev.bertclf.run.RunFolder;
import dev.bertclf.serve.PredictionServer;
import dev.bertclf.serve.Serving;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP load on loopback against the real model (the run folder serving would use): p50/p99 latency and
 * requests/s at concurrency 1, 8 and 32 with review texts, and at concurrency 1 with a short text, with
 * micro-batching on and off, alternating (A B A B), after one unreported round that warms the JVM up (without it the
 * first server measured, always batching on, is slower than the rest). Request
 * counts are bounded; failures are counted.
 */
public final class ServeBenchmark {
    static final String SHORT_TEXT = "A warm, funny and beautifully acted little film. I loved every minute of it.";
    static final int WARMUP = 12;
    static final int[][] LOADS = {{1, 16}, {8, 64}, {32, 128}};
    /** On, off, on, off: the two modes side by side, so neither gains from running second. */
    static final int REPETITIONS = 2;

    private ServeBenchmark() {
    }

    public static void run(Settings s, List<LabeledText> reviews) throws Exception {
        RunFolder run = RunFolder.toServe(s.serve().run(), s.train().runsDir());
        System.out.println("Machine: " + Stats.machineAndCpu());
        System.out.println("Model: " + run.dir() + ", " + Settings.nameOf(s.inference().precision()) + " products");
        List<String> texts = reviews.stream().map(LabeledText::text).toList();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        measure(s, run, client, texts, true, null);
        for (int rep = 1; rep <= REPETITIONS; rep++) {
            for (boolean batching : new boolean[]{true, false}) {
                String mode = "rep " + rep + " | " + (batching ? "batching on " : "batching off");
                measure(s, run, client, texts, batching, mode);
            }
        }
    }

    /** One server, warmed up, then every load once; printed unless {@code mode} is null (the JVM's warm-up). */
    private static void measure(Settings s, RunFolder run, HttpClient client, List<String> texts, boolean batching,
                                String mode) throws Exception {
        try (PredictionServer server = Serving.start(s.serve().onLoopback(run.dir(), batching),
                s.inference().precision(), s.explain(), () -> run)) {
            String url = "http://127.0.0.1:" + server.port() + "/predict";
            load(client, url, List.of(SHORT_TEXT), 1, WARMUP);
            load(client, url, texts, 4, WARMUP);
            Load shortText = load(client, url, List.of(SHORT_TEXT), 1, 32);
            if (mode == null) {
                load(client, url, texts, LOADS[1][0], LOADS[1][1]);
                return;
            }
            print(mode, "short text", 1, shortText);
            for (int[] l : LOADS) {
                print(mode, "review", l[0], load(client, url, texts, l[0], l[1]));
            }
        }
    }

    /** Result of one load: latencies (s), wall time (s), failed requests. */
    record Load(List<Double> latencies, double seconds, int failed) {
    }

    static Load load(HttpClient client, String url, List<String> texts, int concurrency, int requests)
            throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long t0 = System.nanoTime();
        for (int c = 0; c < concurrency; c++) {
            pool.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < requests; ) {
                    try {
                        String body = json.writeValueAsString(Map.of("text", texts.get(i % texts.size())));
                        long start = System.nanoTime();
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
                                .timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        latencies.add((System.nanoTime() - start) / 1e9);
                        if (r.statusCode() != 200) {
                            failed.incrementAndGet();
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
                return null;
            });
        }
        pool.shutdown();
        if (!pool.awaitTermination(10, TimeUnit.MINUTES)) {
            pool.shutdownNow();
        }
        return new Load(latencies, (System.nanoTime() - t0) / 1e9, failed.get());
    }

    private static void print(String mode, String kind, int concurrency, Load l) {
        System.out.printf("%s | %-10s | c=%2d | %3d requests | p50 %6.0f ms | p99 %6.0f ms | %6.2f req/s | %d failed%n",
                mode, kind, concurrency, l.latencies().size(), 1000 * Stats.median(l.latencies()),
                1000 * Stats.percentile(l.latencies(), 99), l.latencies().size() / l.seconds(), l.failed());
    }
}
