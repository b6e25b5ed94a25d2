package dev.bertclf.serve;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /openapi.json} is the server's real contract: it validates, it names exactly the routes the server has,
 * and every answer of every route, for every status the route gives, matches it (Atlassian's validator).
 */
class OpenApiContractTest {
    static final String KEY = "contract-key";
    @TempDir
    static Path dir;
    static OpenApiInteractionValidator validator;
    static final CountDownLatch release = new CountDownLatch(1);
    static final AtomicReference<ModelReloader.Candidate> next = new AtomicReference<>();
    static ServerFixture open;
    static ServerFixture keyed;
    /** Statuses seen per route, to show each documented one was exercised. */
    static final Map<String, Set<Integer>> seen = new TreeMap<>();

    /** Stand-in predictions; "boom" fails, "hold" waits for {@link #release}. */
    static float[][] model(List<String> texts) {
        if (texts.stream().anyMatch(t -> t.contains("boom"))) {
            throw new IllegalStateException("boom");
        }
        if (texts.stream().anyMatch(t -> t.contains("hold"))) {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return ServerFixture.fakeModel(texts);
    }

    /** Lets a held explanation go on. */
    static final CountDownLatch explainRelease = new CountDownLatch(1);

    /** Before each pass of a stand-in explanation: "boom" fails, "hold" waits for {@link #explainRelease}. */
    static void explainPass(String text) {
        if (text.contains("boom")) {
            throw new IllegalStateException("boom");
        }
        if (text.contains("hold")) {
            try {
                explainRelease.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @BeforeAll
    static void start() throws Exception {
        validator = OpenApiInteractionValidator.createForInlineApiSpecification(ApiDocs.openApi()).build();
        next.set(ServerFixture.explainingCandidate("run-1", OpenApiContractTest::model,
                ServerFixture.fakeExplaining(OpenApiContractTest::explainPass)));
        open = new ServerFixture(next::get, "serve.max-texts=2", "serve.max-text-chars=100",
                "serve.max-body-bytes=2000", "serve.predict-timeout-ms=500", "serve.shutdown-grace-ms=500",
                "serve.batching.queue-capacity=2", "serve.batching.max-batch-size=1", "serve.explain.max-texts=2",
                "serve.explain.timeout-ms=500", "serve.explain.max-concurrent=2");
        Path keys = dir.resolve("keys");
        Files.writeString(keys, AccessControlTest.sha256(KEY) + "\n");
        keyed = new ServerFixture(ServerFixture::fakeModel, "serve.api-keys-file=" + keys, "serve.open-routes=");
    }

    /** After every test: each status the document gives for an operation was seen, and checked, at least once. */
    @AfterAll
    static void stop() {
        release.countDown();
        explainRelease.countDown();
        open.close();
        keyed.close();
        System.out.println("Statuses checked against the document: " + seen);
        OpenAPI api = new OpenAPIV3Parser().readContents(ApiDocs.openApi(), null, null).getOpenAPI();
        api.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, op) -> {
            for (String status : op.getResponses().keySet()) {
                if (!status.equals("405")) {
                    assertTrue(seen.getOrDefault(method.name() + " " + path, Set.of()).contains(
                            Integer.parseInt(status)), method + " " + path + " " + status + " was never exercised");
                }
            }
        }));
    }

    /** Checks an answer against the document; returns its status. */
    static int check(String method, String path, HttpResponse<String> r) {
        return check(method, path, r.statusCode(), r.headers().firstValue("Content-Type").orElse(null), r.body(),
                r.headers().map());
    }

    /**
     * A route answers 405 to a method it does not take; OpenAPI describes operations, not their absence, so each
     * operation documents that 405 and the answer is checked against the route's own operation.
     */
    static int check(String method, String path, int status, String contentType, String body,
                     Map<String, List<String>> headers) {
        String checkedAs = method;
        if (status == 405) {
            assertTrue(!PredictionServer.ROUTES.get(path).contains(method), method + " " + path + " is served");
            checkedAs = PredictionServer.ROUTES.get(path).iterator().next();
        }
        SimpleResponse.Builder b = SimpleResponse.Builder.status(status).withBody(body);
        if (contentType != null) {
            b.withContentType(contentType);
        }
        headers.forEach((name, values) -> b.withHeader(name, values));
        ValidationReport report = validator.validateResponse(path, Request.Method.valueOf(checkedAs), b.build());
        assertTrue(!report.hasErrors(), method + " " + path + " " + status + " " + body + ":\n" + report);
        synchronized (seen) {
            seen.computeIfAbsent(method + " " + path, k -> new TreeSet<>()).add(status);
        }
        return status;
    }

    @Test
    void theDocumentIsValidOpenApi3() {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(ApiDocs.openApi(), null, options);
        assertTrue(result.getMessages().isEmpty(), String.valueOf(result.getMessages()));
        assertTrue(result.getOpenAPI().getOpenapi().startsWith("3."));
    }

    @Test
    void theDocumentNamesExactlyTheServersRoutesAndMethods() {
        OpenAPI api = new OpenAPIV3Parser().readContents(ApiDocs.openApi(), null, null).getOpenAPI();
        Map<String, Set<String>> documented = new TreeMap<>();
        api.getPaths().forEach((path, item) -> {
            Set<String> methods = new TreeSet<>();
            item.readOperationsMap().keySet().forEach(m -> methods.add(m.name()));
            documented.put(path, methods);
        });
        Map<String, Set<String>> served = new TreeMap<>();
        PredictionServer.ROUTES.forEach((path, methods) -> served.put(path, new TreeSet<>(methods)));
        assertEquals(served, documented);
        for (PathItem item : api.getPaths().values()) {
            item.readOperations().forEach(op -> assertTrue(op.getResponses().containsKey("405"),
                    op.getSummary() + " documents 405"));
        }
    }

    @Test
    void everyAnswerOfPredictMatchesTheDocument() throws Exception {
        assertEquals(200, check("POST", "/predict", open.predict("{\"text\": \"good\"}")));
        assertEquals(200, check("POST", "/predict", open.predict("{\"texts\": [\"good\", \"bad\"]}")));
        assertEquals(400, check("POST", "/predict", open.predict("{\"text\": ")));
        assertEquals(413, check("POST", "/predict", open.predict("{\"texts\": [\"a\", \"b\", \"c\"]}")));
        assertEquals(415, check("POST", "/predict", open.post("/predict", "text/plain", "{}")));
        assertEquals(405, check("GET", "/predict", open.get("/predict")));
        assertEquals(500, check("POST", "/predict", open.predict("{\"text\": \"boom\"}")));
        assertEquals(401, check("POST", "/predict", keyed.predict("{\"text\": \"good\"}")));
        assertEquals(200, check("POST", "/predict", keyed.predict("{\"text\": \"good\"}",
                "Authorization", "Bearer " + KEY)));
        assertEquals(408, slowBody("/predict"));
        // the pass thread held by one request: the next waits in the queue and times out (503), a third finds the
        // queue full (429)
        CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> send("hold"));
        Thread.sleep(100);
        CompletableFuture<HttpResponse<String>> queued = CompletableFuture.supplyAsync(
                () -> send("queued\", \"queued too"));
        Thread.sleep(100);
        assertEquals(429, check("POST", "/predict", send("refused")));
        assertEquals(503, check("POST", "/predict", queued.get()));
        assertEquals(503, check("POST", "/predict", held.get()));
        release.countDown();
    }

    @Test
    void everyAnswerOfExplainMatchesTheDocument() throws Exception {
        assertEquals(200, check("POST", "/explain", open.explain("{\"text\": \"a good film\"}")));
        assertEquals(200, check("POST", "/explain", open.explain("{\"texts\": [\"good\", \"bad\"]}")));
        assertEquals(200, check("POST", "/explain", open.explain("{\"text\": \"good\", \"label\": \"negative\"}")));
        assertEquals(400, check("POST", "/explain", open.explain("{\"text\": \"good\", \"label\": \"great\"}")));
        assertEquals(400, check("POST", "/explain", open.explain("{\"text\": ")));
        assertEquals(413, check("POST", "/explain", open.explain("{\"texts\": [\"a\", \"b\", \"c\"]}")));
        assertEquals(415, check("POST", "/explain", open.post("/explain", "text/plain", "{}")));
        assertEquals(405, check("GET", "/explain", open.get("/explain")));
        assertEquals(500, check("POST", "/explain", open.explain("{\"text\": \"boom\"}")));
        assertEquals(401, check("POST", "/explain", keyed.explain("{\"text\": \"good\"}")));
        assertEquals(501, check("POST", "/explain", keyed.explain("{\"text\": \"good\"}",
                "Authorization", "Bearer " + KEY)));
        assertEquals(408, slowBody("/explain"));
        // the pass thread held by one explanation: the next waits and times out (503), a third finds both
        // explanation permits taken (429)
        CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> explain("hold"));
        Thread.sleep(100);
        CompletableFuture<HttpResponse<String>> queued = CompletableFuture.supplyAsync(() -> explain("queued"));
        Thread.sleep(100);
        assertEquals(429, check("POST", "/explain", explain("refused")));
        assertEquals(503, check("POST", "/explain", queued.get()));
        assertEquals(503, check("POST", "/explain", held.get()));
        explainRelease.countDown();
    }

    private static HttpResponse<String> explain(String text) {
        try {
            return open.explain("{\"text\": \"" + text + "\"}");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> send(String text) {
        try {
            return open.predict("{\"texts\": [\"" + text + "\"]}");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A body sent a byte at a time, slower than serve.min-request-data-rate: the answer is checked too. */
    private static int slowBody(String path) throws Exception {
        try (Socket s = ServerLimitsTest.connect(open)) {
            OutputStream out = s.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread trickle = new Thread(() -> {
                try {
                    for (int i = 0; i < 40; i++) {
                        Thread.sleep(250);
                        out.write(' ');
                        out.flush();
                    }
                } catch (Exception ignored) {
                    // the server cut the connection off
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            String head = response.substring(0, response.indexOf("\r\n\r\n"));
            String body = response.substring(response.indexOf("\r\n\r\n") + 4);
            String contentType = null;
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-type:")) {
                    contentType = line.substring(13).strip();
                }
            }
            if (head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
                body = body.substring(body.indexOf("\r\n") + 2, body.lastIndexOf("\r\n0\r\n"));
            }
            return check("POST", path, Integer.parseInt(head.split(" ")[1]), contentType, body, Map.of());
        }
    }

    @Test
    void everyAnswerOfTheOtherRoutesMatchesTheDocument() throws Exception {
        for (String path : new String[]{"/", "/health", "/model", "/metrics", "/openapi.json", "/docs"}) {
            assertEquals(200, check("GET", path, open.get(path)));
            assertEquals(405, check("POST", path, open.post(path, "application/json", "{}")));
        }
        for (String path : new String[]{"/health", "/model", "/metrics"}) {
            assertEquals(401, check("GET", path, keyed.get(path)));
            assertEquals(200, check("GET", path, keyed.get(path, "Authorization", "Bearer " + KEY)));
        }
        assertEquals(401, check("POST", "/admin/reload", keyed.post("/admin/reload", "application/json", "")));
        assertEquals(405, check("GET", "/admin/reload", open.get("/admin/reload")));
    }

    @Test
    void theAnswersOfAMultiLabelModelMatchTheDocument() throws Exception {
        try (ServerFixture multi = new ServerFixture(() -> ServerFixture.multiLabelCandidate("multi",
                ServerFixture::fakeModel))) {
            HttpResponse<String> one = multi.predict("{\"text\": \"a good film\"}");
            assertEquals(200, check("POST", "/predict", one));
            assertTrue(one.body().contains("\"labels\":[\"positive\"]"), one.body());
            HttpResponse<String> batch = multi.predict("{\"texts\": [\"so so\", \"bad\"]}");
            assertEquals(200, check("POST", "/predict", batch));
            assertTrue(batch.body().contains("\"labels\":[\"neutral\"]") && batch.body().contains(
                    "\"labels\":[\"negative\"]"), batch.body());
            HttpResponse<String> model = multi.get("/model");
            assertEquals(200, check("GET", "/model", model));
            assertTrue(model.body().contains("\"task\":\"multi-label\"") && model.body().contains("\"neutral\":0.3"),
                    model.body());
        }
    }

    @Test
    void reloadAnswersMatchTheDocument() throws Exception {
        next.set(new ModelReloader.Candidate("broken", () -> {
            throw new IllegalStateException("model file is damaged");
        }));
        assertEquals(500, check("POST", "/admin/reload", open.post("/admin/reload", "application/json", "")));
        next.set(ServerFixture.candidate("run-2", OpenApiContractTest::model));
        assertEquals(200, check("POST", "/admin/reload", open.post("/admin/reload", "application/json", "")));
    }

    @Test
    void answersWhileTheFirstModelLoadsMatchTheDocument() throws Exception {
        CountDownLatch loaded = new CountDownLatch(1);
        AtomicReference<ServerFixture> loading = new AtomicReference<>();
        List<Integer> ports = new ArrayList<>();
        Thread starter = new Thread(() -> loading.set(new ServerFixture(() -> new ModelReloader.Candidate("slow",
                () -> {
                    try {
                        loaded.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return ServerFixture.candidate("slow", ServerFixture::fakeModel).loader().get();
                }), "serve.port=" + freePort(ports))));
        starter.start();
        ServerFixture probe = new ServerFixture(ServerFixture::fakeModel);
        String base = "http://127.0.0.1:" + ports.get(0);
        try {
            HttpResponse<String> health = null;
            for (int i = 0; i < 100 && (health == null || health.statusCode() != 503); i++) {
                Thread.sleep(50);
                try {
                    health = probe.client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                            base + "/health")).build(), HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException notYetListening) {
                    // not listening yet
                }
            }
            assertEquals(503, check("GET", "/health", health));
            for (String[] call : new String[][]{{"GET", "/model"}, {"POST", "/admin/reload"},
                    {"POST", "/predict"}}) {
                var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + call[1]))
                        .header("Content-Type", "application/json");
                b = call[0].equals("GET") ? b.GET() : b.POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"text\": \"good\"}"));
                assertEquals(503, check(call[0], call[1], probe.client.send(b.build(),
                        HttpResponse.BodyHandlers.ofString())));
            }
        } finally {
            loaded.countDown();
            starter.join(30_000);
            probe.close();
            if (loading.get() != null) {
                loading.get().close();
            }
        }
    }

    private static int freePort(List<Integer> into) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            into.add(s.getLocalPort());
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
