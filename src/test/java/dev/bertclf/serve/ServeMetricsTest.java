package dev.bertclf.serve;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /metrics} in Prometheus' text format: every counter moves by exactly what the requests did. */
class ServeMetricsTest {
    /** A sample line of the text format: name, optional labels, value (strict: no timestamp, no stray text). */
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*})? "
                    + "(-?[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|\\+Inf|-Inf)");
    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*");

    /** Word pieces a stand-in model reports: one per word, plus [CLS] and [SEP]. */
    static Predictor countingWords() {
        return new Predictor() {
            @Override
            public float[][] predict(List<String> texts) {
                return ServerFixture.fakeModel(texts);
            }

            @Override
            public Pass pass(List<String> texts) {
                return new Pass(predict(texts), texts.stream().mapToInt(t -> t.split(" ").length + 2).toArray());
            }
        };
    }

    /** Every sample of a scrape by its name and labels, each line checked against the text format. */
    static Map<String, Double> scrape(ServerFixture fx) throws Exception {
        var r = fx.get("/metrics");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                r.headers().toString());
        Map<String, Double> samples = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("#")) {
                assertTrue(COMMENT.matcher(line).matches(), "a HELP or TYPE line: " + line);
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "a sample line: " + line);
            samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(
                    m.group(3).replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
        }
        return samples;
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String sample) {
        assertTrue(after.containsKey(sample), sample + " in " + after.keySet().stream().filter(
                k -> k.startsWith(sample.split("\\{")[0])).toList());
        return after.get(sample) - before.getOrDefault(sample, 0.0);
    }

    @Test
    void countersMoveByExactlyTheRequestsMade() throws Exception {
        try (ServerFixture fx = new ServerFixture(countingWords(), "serve.max-texts=4",
                "serve.batching.max-batch-size=2")) {
            Map<String, Double> before = scrape(fx);
            assertEquals(200, fx.predict("{\"text\": \"a good film\"}").statusCode());
            assertEquals(200, fx.predict("{\"texts\": [\"bad\", \"so so\", \"good one here\"]}").statusCode());
            assertEquals(400, fx.predict("{\"text\": 1}").statusCode());
            assertEquals(413, fx.predict("{\"texts\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}").statusCode());
            assertEquals(200, fx.get("/health").statusCode());
            assertEquals(404, fx.get("/nowhere").statusCode());
            Map<String, Double> after = scrape(fx);

            assertEquals(2, delta(before, after, "bertclf_requests_total{route=\"/predict\",status=\"200\"}"));
            assertEquals(1, delta(before, after, "bertclf_requests_total{route=\"/predict\",status=\"400\"}"));
            assertEquals(1, delta(before, after, "bertclf_requests_total{route=\"/predict\",status=\"413\"}"));
            assertEquals(1, delta(before, after, "bertclf_requests_total{route=\"/health\",status=\"200\"}"));
            assertEquals(1, delta(before, after, "bertclf_requests_total{route=\"other\",status=\"404\"}"));
            assertEquals(1, delta(before, after, "bertclf_rejections_total{cause=\"too_large\"}"));
            assertEquals(4, delta(before, after, "bertclf_texts_total"));
            // (3 + 2) + (1 + 2) + (2 + 2) + (3 + 2) word pieces
            assertEquals(17, delta(before, after, "bertclf_word_pieces_total"));
            assertEquals(4, delta(before, after, "bertclf_request_duration_seconds_count{route=\"/predict\"}"));
            assertEquals(4, delta(before, after,
                    "bertclf_request_duration_seconds_bucket{route=\"/predict\",le=\"+Inf\"}"));
            assertTrue(after.containsKey("bertclf_request_duration_seconds_bucket{route=\"/predict\",le=\"0.01\"}"));
            assertTrue(after.containsKey("bertclf_request_duration_seconds_bucket{route=\"/predict\",le=\"30.0\"}"));
            assertEquals(2, delta(before, after, "bertclf_queue_wait_seconds_count"));
            // the batch of 3 ran as passes of 2 and 1
            assertEquals(3, delta(before, after, "bertclf_forward_pass_seconds_count"));
            assertEquals(4, delta(before, after, "bertclf_batch_texts_sum"));
            assertEquals(0, after.get("bertclf_queue_texts"));
            assertEquals(1, after.get("bertclf_model_info{base_model=\"bert-base-multilingual-cased\",model=\""
                    + ServerFixture.RUN + "\",precision=\"fp32\"}"));
            assertEquals(1, after.get("bertclf_model_loads_total{result=\"loaded\"}"));
            assertTrue(after.get("process_resident_memory_bytes") > 1e6, "the process's resident memory");
            assertTrue(after.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")), "JVM metrics");
        }
    }

    @Test
    void busyAndTimedOutRequestsAreCountedByCause() throws Exception {
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        Predictor stuck = texts -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ServerFixture.fakeModel(texts);
        };
        try (ServerFixture fx = new ServerFixture(stuck, "serve.predict-timeout-ms=300",
                "serve.shutdown-grace-ms=300", "serve.batching.queue-capacity=1")) {
            Map<String, Double> before = scrape(fx);
            assertEquals(503, fx.predict("{\"text\": \"held\"}").statusCode());
            var queued = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return fx.predict("{\"text\": \"queued\"}").statusCode();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(100);
            assertEquals(429, fx.predict("{\"text\": \"one too many\"}").statusCode());
            assertEquals(503, (int) queued.get());
            Map<String, Double> after = scrape(fx);
            hold.countDown();
            assertEquals(2, delta(before, after, "bertclf_rejections_total{cause=\"timeout\"}"));
            assertEquals(1, delta(before, after, "bertclf_rejections_total{cause=\"busy\"}"));
        }
    }
}
