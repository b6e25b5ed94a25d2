package dev.bertclf.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP contract, with a stand-in model; RealServeTest covers a real fine-tuned run folder. */
class PredictionServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static ServerFixture fx;

    @BeforeAll
    static void start() {
        fx = new ServerFixture(ServerFixture::fakeModel, "serve.max-body-bytes=4096", "serve.max-texts=4",
                "serve.max-text-chars=1000", "serve.batching.max-wait-ms=20");
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return JSON.readTree(r.body());
    }

    private static void error(int status, HttpResponse<String> r, String fragment) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.get("error").asText().contains(fragment), r.body());
        assertFalse(r.body().contains("Exception") || r.body().contains("at dev."), "no stack trace: " + r.body());
        assertEquals("positive", ok(fx.predict("{\"text\": \"still good\"}")).get("label").asText(),
                "keeps serving after a bad request");
    }

    @Test
    void singlePrediction() throws Exception {
        JsonNode a = ok(fx.predict("{\"text\": \"a good film\"}"));
        assertEquals("positive", a.get("label").asText());
        assertEquals(0.7, a.get("probabilities").get("positive").asDouble(), 1e-6);
        assertEquals(3, a.get("probabilities").size());
        assertEquals("test-run", a.get("model").asText());
    }

    @Test
    void batchPredictionKeepsOrderAndAgreesWithSingle() throws Exception {
        JsonNode list = ok(fx.predict("{\"texts\": [\"bad\", \"good\", \"meh\"]}"));
        assertEquals(3, list.size());
        assertEquals("negative", list.get(0).get("label").asText());
        assertEquals("positive", list.get(1).get("label").asText());
        assertEquals("neutral", list.get(2).get("label").asText());
        assertEquals(ok(fx.predict("{\"text\": \"meh\"}")), list.get(2));
    }

    @Test
    void badRequestsGet400() throws Exception {
        error(400, fx.predict("{\"text\": "), "malformed JSON");
        error(400, fx.predict("{}"), "give either");
        error(400, fx.predict("{\"text\": \"   \"}"), "is empty");
        error(400, fx.predict("{\"text\": 42}"), "must be a string");
        error(400, fx.predict("{\"texts\": []}"), "non-empty list");
        error(400, fx.predict("{\"texts\": [\"ok\", null]}"), "texts[1]");
        error(400, fx.predict("[\"x\"]"), "JSON object");
        error(400, fx.predict("{\"text\": \"a\", \"texts\": [\"b\"]}"), "give either");
    }

    @Test
    void tooLargeGets413() throws Exception {
        error(413, fx.predict("{\"text\": \"" + "x".repeat(5000) + "\"}"), "too large");
        error(413, fx.predict("{\"texts\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}"), "too many texts");
        error(413, fx.predict("{\"text\": \"" + "y".repeat(1001) + "\"}"), "too long");
    }

    @Test
    void wrongContentTypeGets415() throws Exception {
        error(415, fx.post("/predict", "text/plain", "{\"text\": \"hi\"}"), "application/json");
        error(415, fx.post("/predict", null, "{\"text\": \"hi\"}"), "application/json");
    }

    @Test
    void unknownPathGets404() throws Exception {
        error(404, fx.get("/nope"), "not found");
    }

    @Test
    void healthAndModelAreTruthful() throws Exception {
        JsonNode h = ok(fx.get("/health"));
        assertEquals("ready", h.get("status").asText());
        JsonNode m = ok(fx.get("/model"));
        assertEquals(ServerFixture.LABELS.size(), m.get("labels").size());
    }

    @Test
    void demoPageIsServed() throws Exception {
        HttpResponse<String> r = fx.get("/");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("<textarea id=\"text\""), r.body());
    }

    @Test
    void thirtyTwoConcurrentRequestsAllSucceedCorrectly() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<JsonNode>> answers = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String text = i % 2 == 0 ? "good #" + i : "bad #" + i;
                answers.add(pool.submit(() -> {
                    go.await();
                    return ok(fx.predict("{\"text\": \"" + text + "\"}"));
                }));
            }
            go.countDown();
            for (int i = 0; i < 32; i++) {
                assertEquals(i % 2 == 0 ? "positive" : "negative", answers.get(i).get(60, TimeUnit.SECONDS)
                        .get("label").asText(), "request " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
