package dev.bertclf.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.model.CpuReport;
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
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The server as operations would run it: a mixed workload (short texts, reviews, batches of four reviews, a few bad
 * requests) at a fixed concurrency for some minutes, with hot reloads of the run ({@code POST /admin/reload}) spread
 * through it. Prints the failed well-formed requests (the goal is none), p50 and p99 per kind of request outside
 * and during swaps, and resident memory at the start, after each swap and at the end. The server runs in this JVM
 * (so the memory figures include the client's, which is small and flat).
 */
public final class ServeOperationsBenchmark {
    enum Kind { SHORT, REVIEW, BATCH, BAD }

    /** One request: its kind, when it began and ended (ns), its status, and whether it overlapped a swap. */
    record Done(Kind kind, long start, long end, int status, String failure) {
    }

    private ServeOperationsBenchmark() {
    }

    public static void run(Settings s, List<String> reviews, int minutes, int concurrency, int reloads)
            throws Exception {
        RunFolder run = RunFolder.toServe(s.serve().run(), s.train().runsDir());
        System.out.println("Machine: " + Stats.machineAndCpu());
        System.out.println(CpuReport.current().line());
        System.out.printf("Model: %s, %s; %d min at c=%d, %d reloads%n", run.dir(),
                Settings.nameOf(s.inference().precision()), minutes, concurrency, reloads);
        try (PredictionServer server = Serving.start(s.serve().onLoopback(run.dir(), true),
                s.inference().precision(), s.explain(), () -> run)) {
            String base = "http://127.0.0.1:" + server.port();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            List<String> rss = new ArrayList<>();
            rss.add(String.format("start %.2f GB", Stats.rssGb()));
            List<Done> done = Collections.synchronizedList(new ArrayList<>());
            List<long[]> swaps = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService clients = Executors.newFixedThreadPool(concurrency);
            for (int c = 0; c < concurrency; c++) {
                Random random = new Random(c);
                clients.submit(() -> {
                    while (!stop.get()) {
                        done.add(request(client, base, reviews, random));
                    }
                    return null;
                });
            }
            long t0 = System.nanoTime();
            long total = TimeUnit.MINUTES.toNanos(minutes);
            for (int r = 1; r <= reloads; r++) {
                sleepUntil(t0 + total * r / (reloads + 1));
                rss.add(String.format("before swap %d %.2f GB", r, Stats.rssGb()));
                long start = System.nanoTime();
                HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create(base + "/admin/reload"))
                        .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofMinutes(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                swaps.add(new long[]{start, System.nanoTime()});
                System.out.printf("reload %d: %d in %.1f s %s%n", r, res.statusCode(),
                        (System.nanoTime() - start) / 1e9, res.body());
                rss.add(String.format("after swap %d %.2f GB", r, Stats.rssGb()));
            }
            sleepUntil(t0 + total);
            stop.set(true);
            clients.shutdown();
            clients.awaitTermination(2, TimeUnit.MINUTES);
            rss.add(String.format("end %.2f GB", Stats.rssGb()));
            report(done, swaps, (System.nanoTime() - t0) / 1e9);
            System.out.println("Resident memory: " + String.join(", ", rss) + String.format(
                    "; peak %.2f GB", Stats.peakRssGb()));
        }
    }

    private static Done request(HttpClient client, String base, List<String> reviews, Random random) {
        double p = random.nextDouble();
        Kind kind = p < 0.55 ? Kind.SHORT : p < 0.80 ? Kind.REVIEW : p < 0.95 ? Kind.BATCH : Kind.BAD;
        String review = reviews.get(random.nextInt(reviews.size()));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/predict")).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json");
        try {
            ObjectMapper json = new ObjectMapper();
            String body = switch (kind) {
                case SHORT -> json.writeValueAsString(Map.of("text", ServeBenchmark.SHORT_TEXT));
                case REVIEW -> json.writeValueAsString(Map.of("text", review));
                case BATCH -> json.writeValueAsString(Map.of("texts", List.of(review,
                        reviews.get(random.nextInt(reviews.size())), reviews.get(random.nextInt(reviews.size())),
                        reviews.get(random.nextInt(reviews.size())))));
                case BAD -> List.of("{\"text\": ", "{\"text\": \"  \"}", "{\"texts\": []}", "[1]")
                        .get(random.nextInt(4));
            };
            long start = System.nanoTime();
            HttpResponse<String> r = client.send(b.POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            String failure = null;
            if (kind == Kind.BAD ? r.statusCode() != 400 : r.statusCode() != 200) {
                failure = r.statusCode() + " " + r.body();
            } else if (kind != Kind.BAD) {
                JsonNode a = json.readTree(r.body());
                JsonNode first = a.isArray() ? a.get(0) : a;
                if (first == null || !first.has("model")) {
                    failure = "no model named: " + r.body();
                }
            }
            return new Done(kind, start, System.nanoTime(), r.statusCode(), failure);
        } catch (Exception e) {
            long now = System.nanoTime();
            return new Done(kind, now, now, -1, e.toString());
        }
    }

    private static void report(List<Done> all, List<long[]> swaps, double seconds) {
        List<Done> done = List.copyOf(all);
        long failed = done.stream().filter(d -> d.failure() != null).count();
        long wellFormed = done.stream().filter(d -> d.kind() != Kind.BAD).count();
        System.out.printf("%d requests in %.0f s (%d well-formed, %d bad), %d failed%n", done.size(), seconds,
                wellFormed, done.size() - wellFormed, failed);
        done.stream().filter(d -> d.failure() != null).limit(5).forEach(d -> System.out.println("  failed: "
                + d.kind() + " " + d.failure()));
        Map<String, List<Double>> latencies = new TreeMap<>();
        for (Done d : done) {
            if (d.kind() == Kind.BAD || d.failure() != null) {
                continue;
            }
            boolean duringSwap = swaps.stream().anyMatch(w -> d.end() > w[0] && d.start() < w[1]);
            latencies.computeIfAbsent((duringSwap ? "during swaps" : "steady      ") + " | "
                    + d.kind().name().toLowerCase(), k -> new ArrayList<>()).add((d.end() - d.start()) / 1e9);
        }
        latencies.forEach((phase, l) -> System.out.printf("%s | %5d requests | p50 %6.0f ms | p99 %6.0f ms%n",
                phase, l.size(), 1000 * Stats.median(l), 1000 * Stats.percentile(l, 99)));
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left = nanoTime - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }
}
