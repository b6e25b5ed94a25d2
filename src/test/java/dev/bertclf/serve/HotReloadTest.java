package dev.bertclf.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.model.Task;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Swapping the served model: under load with no request failed, on the pass thread, and never to a broken run. */
class HotReloadTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A model that always answers {@code label}, with a short pass; its release recorded. */
    record Fake(String id, String label, List<String> releasedOn) {
        ModelReloader.Candidate candidate(long loadMs) {
            float[] p = new float[3];
            p[ServerFixture.LABELS.indexOf(label)] = 1;
            Predictor predictor = texts -> {
                sleep(3);
                float[][] out = new float[texts.size()][];
                java.util.Arrays.fill(out, p);
                return out;
            };
            return new ModelReloader.Candidate(id, () -> {
                sleep(loadMs);
                return new ServedModel(id, Task.singleLabel(ServerFixture.LABELS), predictor, java.util.Map.of("model", id),
                        () -> releasedOn.add(Thread.currentThread().getName()));
            });
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** An answer and when its request began and ended. */
    record Timed(long start, long end, int status, JsonNode body) {
    }

    @Test
    void aSwapUnderLoadFailsNoRequestAndEachAnswerNamesTheModelThatComputedIt() throws Exception {
        Fake one = new Fake("run-1", "neutral", Collections.synchronizedList(new ArrayList<>()));
        Fake two = new Fake("run-2", "positive", Collections.synchronizedList(new ArrayList<>()));
        AtomicReference<ModelReloader.Candidate> chosen = new AtomicReference<>(one.candidate(0));
        try (ServerFixture fx = new ServerFixture(chosen::get, "serve.warmup-passes=1", "serve.reload-warmup-passes=20")) {
            List<Timed> answers = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService clients = Executors.newFixedThreadPool(8);
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                running.add(clients.submit(() -> {
                    while (!stop.get()) {
                        long start = System.nanoTime();
                        HttpResponse<String> r = fx.predict("{\"text\": \"anything\"}");
                        answers.add(new Timed(start, System.nanoTime(), r.statusCode(), JSON.readTree(r.body())));
                    }
                    return null;
                }));
            }
            Thread.sleep(300);
            chosen.set(two.candidate(300));
            long reloadStart = System.nanoTime();
            HttpResponse<String> reload = fx.post("/admin/reload", "application/json", "");
            long swapped = System.nanoTime();
            assertEquals(200, reload.statusCode(), reload.body());
            assertEquals("run-2", JSON.readTree(reload.body()).get("model").asText());
            assertEquals("run-1", JSON.readTree(reload.body()).get("previous").asText());
            Thread.sleep(300);
            stop.set(true);
            for (Future<?> f : running) {
                f.get(30, TimeUnit.SECONDS);
            }
            clients.shutdown();

            int duringSwap = 0;
            for (Timed t : answers) {
                assertEquals(200, t.status(), t.body().toString());
                String model = t.body().get("model").asText();
                assertEquals(model.equals("run-1") ? "neutral" : "positive", t.body().get("label").asText(),
                        "the answer names the model that computed it: " + t.body());
                if (t.start() > swapped) {
                    assertEquals("run-2", model, "a request begun after the swap");
                }
                if (model.equals("run-1") && t.end() > reloadStart + 300_000_000L && t.end() < swapped) {
                    duringSwap++;
                }
            }
            assertTrue(duringSwap > 0, "requests were answered between the load and the swap (warm-up passes)");
            assertEquals(List.of("micro-batcher"), one.releasedOn(), "the old model freed once, on the pass thread");
            assertEquals(List.of(), two.releasedOn());
        }
        assertEquals(List.of("micro-batcher"), two.releasedOn(), "the last model freed at shutdown");
    }

    @Test
    void aRunThatFailsToLoadLeavesTheOldModelServing() throws Exception {
        Fake one = new Fake("run-1", "neutral", new ArrayList<>());
        AtomicReference<ModelReloader.Candidate> chosen = new AtomicReference<>(one.candidate(0));
        try (ServerFixture fx = new ServerFixture(chosen::get)) {
            chosen.set(new ModelReloader.Candidate("run-2", () -> {
                throw new IllegalStateException("run-2/model/model.fb is truncated");
            }));
            HttpResponse<String> r = fx.post("/admin/reload", "application/json", "");
            assertEquals(500, r.statusCode(), r.body());
            assertTrue(r.body().contains("model.fb is truncated") && r.body().contains("run-1 serves on"), r.body());
            JsonNode a = JSON.readTree(fx.predict("{\"text\": \"x\"}").body());
            assertEquals("run-1", a.get("model").asText());
            assertEquals(1, ServeMetricsTest.scrape(fx).get("bertclf_model_loads_total{result=\"failed\"}"));
            assertEquals(List.of(), one.releasedOn());
        }
    }

    @Test
    void theWatcherSwapsInANewerRunAndDoesNotRetryOneThatFailed() throws Exception {
        Fake one = new Fake("run-1", "neutral", new ArrayList<>());
        Fake two = new Fake("run-2", "positive", new ArrayList<>());
        AtomicReference<ModelReloader.Candidate> chosen = new AtomicReference<>(one.candidate(0));
        try (ServerFixture fx = new ServerFixture(chosen::get, "serve.run=latest", "serve.watch-interval-ms=100")) {
            chosen.set(two.candidate(0));
            assertEquals("run-2", awaitModel(fx, "run-2"));
            AtomicInteger tries = new AtomicInteger();
            chosen.set(new ModelReloader.Candidate("run-3", () -> {
                tries.incrementAndGet();
                throw new IllegalStateException("broken");
            }));
            Thread.sleep(1000);
            assertEquals(1, tries.get(), "a run that failed is tried once");
            assertEquals("run-2", JSON.readTree(fx.get("/health").body()).get("model").asText());
        }
    }

    static String awaitModel(ServerFixture fx, String id) throws Exception {
        String serving = null;
        for (int i = 0; i < 100 && !id.equals(serving); i++) {
            Thread.sleep(50);
            serving = JSON.readTree(fx.get("/health").body()).get("model").asText();
        }
        return serving;
    }

    @Test
    void aReloadWhileOneIsUnderWayJoinsIt() throws Exception {
        Fake one = new Fake("run-1", "neutral", new ArrayList<>());
        AtomicLong loads = new AtomicLong();
        Set<String> answers = ConcurrentHashMap.newKeySet();
        AtomicReference<ModelReloader.Candidate> chosen = new AtomicReference<>(one.candidate(0));
        try (ServerFixture fx = new ServerFixture(chosen::get)) {
            ModelReloader.Candidate slow = new Fake("run-2", "positive", new ArrayList<>()).candidate(500);
            chosen.set(new ModelReloader.Candidate("run-2", () -> {
                loads.incrementAndGet();
                return slow.loader().get();
            }));
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<HttpResponse<String>>> rs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                rs.add(pool.submit(() -> fx.post("/admin/reload", "application/json", "")));
            }
            for (Future<HttpResponse<String>> f : rs) {
                HttpResponse<String> r = f.get(30, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                answers.add(JSON.readTree(r.body()).get("model").asText());
            }
            pool.shutdown();
            assertEquals(1, loads.get(), "one load for the three requests");
            assertEquals(Set.of("run-2"), answers);
        }
    }
}
