package dev.bertclf.serve;

import dev.bertclf.TestSettings;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Overload, model failure, start-up and shutdown behaviour. */
class ServerFailureTest {
    @Test
    void fullQueueGets429() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Predictor slow = texts -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ServerFixture.fakeModel(texts);
        };
        try (ServerFixture fx = new ServerFixture(slow, "serve.batching.queue-capacity=1",
                "serve.batching.max-batch-size=1", "serve.batching.max-wait-ms=0")) {
            CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> call(fx, "good"));
            Thread.sleep(300);
            CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> call(fx, "bad"));
            Thread.sleep(300);
            HttpResponse<String> third = fx.predict("{\"text\": \"meh\"}");
            assertEquals(429, third.statusCode(), third.body());
            assertTrue(third.body().contains("busy"));
            release.countDown();
            assertEquals(200, first.get(30, TimeUnit.SECONDS).statusCode());
            assertEquals(200, second.get(30, TimeUnit.SECONDS).statusCode());
            assertEquals(200, fx.predict("{\"text\": \"meh\"}").statusCode(), "serves again once the queue drains");
        }
    }

    private static HttpResponse<String> call(ServerFixture fx, String text) {
        try {
            return fx.predict("{\"text\": \"" + text + "\"}");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void modelFailureGets500WithoutDetails() throws Exception {
        Predictor broken = texts -> {
            if (texts.get(0).contains("boom")) {
                throw new IllegalStateException("secret /internal/path failure");
            }
            return ServerFixture.fakeModel(texts);
        };
        try (ServerFixture fx = new ServerFixture(broken)) {
            HttpResponse<String> r = fx.predict("{\"text\": \"boom\"}");
            assertEquals(500, r.statusCode());
            assertEquals("{\"error\":\"internal error\"}", r.body());
            assertEquals(200, fx.predict("{\"text\": \"fine\"}").statusCode());
        }
    }

    @Test
    void notReadyUntilTheModelIsLoaded() throws Exception {
        PredictionServer server = new PredictionServer(TestSettings.with("serve.port=0").serve());
        int port = server.start();
        try {
            var client = java.net.http.HttpClient.newHttpClient();
            var health = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, health.statusCode());
            assertTrue(health.body().contains("loading"));
            var predict = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/predict"))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"text\":\"x\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, predict.statusCode());
        } finally {
            server.close();
        }
    }

    @Test
    void shutdownFinishesInFlightRequests() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Predictor slow = texts -> {
            started.countDown();
            try {
                Thread.sleep(1500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ServerFixture.fakeModel(texts);
        };
        ServerFixture fx = new ServerFixture(slow);
        CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> call(fx, "good"));
        assertTrue(started.await(10, TimeUnit.SECONDS));
        fx.close();
        HttpResponse<String> r = inFlight.get(30, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("positive"));
        assertFalse(canConnect(fx.base), "stopped after the request finished");
    }

    private static boolean canConnect(String base) {
        try {
            java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.discarding());
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
