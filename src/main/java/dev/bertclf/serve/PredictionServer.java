package dev.bertclf.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Explainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

import javax.servlet.ServletRequest;
import javax.servlet.ServletRequestWrapper;
import javax.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The REST API and demo page on Spark-Java; {@code /openapi.json} is its contract, checked against every answer by
 * {@code OpenApiContractTest}:
 * <ul>
 *   <li>{@code POST /predict} {@code {"text": "..."}} → {@code {"label", "probabilities", "model"}};
 *       {@code {"texts": [...]}} → a list of those, in order</li>
 *   <li>{@code POST /explain} (the same body, at most {@code serve.explain.max-texts} texts, and an optional
 *       {@code "label"}) → the prediction and each chosen label's word attributions</li>
 *   <li>{@code GET /health} → 200 once a model serves (503 before), {@code GET /model} → model facts</li>
 *   <li>{@code GET /metrics} → Prometheus' text format; {@code POST /admin/reload} → swap in the run to serve</li>
 *   <li>{@code GET /} → the demo page, {@code GET /openapi.json} and {@code GET /docs} → the API's document</li>
 * </ul>
 * Errors are JSON {@code {"error": "..."}}, never a stack trace, Jetty's own included ({@link JsonErrorHandler}).
 * Each request gets an {@code X-Request-Id} and one line in the access log ({@link AccessLog}); API keys and CORS are
 * checked before any route runs ({@link Access}).
 */
public final class PredictionServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PredictionServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json";
    /** Request attribute: the request waited its whole predict-timeout-ms for its prediction. */
    private static final String TIMED_OUT = "bertclf.timedOut";

    /** Every route and its methods; the OpenAPI document describes exactly these (OpenApiContractTest). */
    public static final Map<String, Set<String>> ROUTES = routeTable();

    private static Map<String, Set<String>> routeTable() {
        Map<String, Set<String>> r = new LinkedHashMap<>();
        r.put("/", Set.of("GET"));
        r.put("/predict", Set.of("POST"));
        r.put("/explain", Set.of("POST"));
        r.put("/health", Set.of("GET"));
        r.put("/model", Set.of("GET"));
        r.put("/metrics", Set.of("GET"));
        r.put("/admin/reload", Set.of("POST"));
        r.put("/openapi.json", Set.of("GET"));
        r.put("/docs", Set.of("GET"));
        return Collections.unmodifiableMap(r);
    }

    private final Settings.ServeSettings settings;
    private final Service http;
    private final ServeMetrics metrics = new ServeMetrics();
    private final Access access;
    private final AccessLog accessLog;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Permits for /predict requests being read or awaited: the other Jetty threads stay free for /health. */
    private final Semaphore predictions;
    /** Permits for /explain requests, which take a prediction permit too. */
    private final Semaphore explanations;
    private volatile MicroBatcher batcher;
    private volatile ModelReloader reloader;
    private volatile boolean draining;

    public PredictionServer(Settings.ServeSettings settings) {
        this.settings = settings;
        this.access = Access.of(settings.access());
        this.accessLog = new AccessLog(settings.logTexts());
        this.predictions = new Semaphore(settings.maxConcurrentPredictions());
        this.explanations = new Semaphore(settings.explain().maxConcurrent());
        this.http = Service.ignite();
        http.embeddedServerIdentifier(LimitedJetty.register(settings));
        http.ipAddress(settings.host()).port(settings.port())
                .threadPool(settings.threads(), Math.min(4, settings.threads()), 30_000);
        routes();
    }

    /** Starts listening; returns the bound port. */
    public int start() {
        http.init();
        http.awaitInitialization();
        log.info("Listening on http://{}:{}/", settings.host(), http.port());
        return http.port();
    }

    /** The server's metrics, which the batcher's forward passes and the reloader's swaps report to. */
    public ServeMetrics metrics() {
        return metrics;
    }

    /** Makes the server ready: from now on /health says so, /predict answers, /admin/reload swaps models. */
    public void ready(MicroBatcher b, ModelReloader r) {
        metrics.queueDepth(b::queuedTexts);
        this.reloader = r;
        this.batcher = b;
        log.info("Serving model {} (labels {})", b.current().id(), b.current().labels());
    }

    public int port() {
        return http.port();
    }

    private void routes() {
        http.before((req, res) -> {
            req.attribute(AccessLog.STARTED, System.nanoTime());
            res.header("X-Content-Type-Options", "nosniff");
            res.header(AccessLog.REQUEST_ID, AccessLog.requestId(req.headers(AccessLog.REQUEST_ID)));
            Access.Refusal refused = access.check(req, res, ROUTES.get(req.pathInfo()));
            if (refused != null) {
                res.type(JSON_TYPE);
                http.halt(refused.status(), refused.status() == 204 ? "" : json(Map.of("error", refused.message())));
            }
        });
        http.afterAfter((req, res) -> {
            int status = res.raw().getStatus();
            String route = ROUTES.containsKey(req.pathInfo()) ? req.pathInfo() : "other";
            long nanos = System.nanoTime() - (Long) req.attribute(AccessLog.STARTED);
            metrics.answered(route, status, nanos);
            String cause = ServeMetrics.causeOf(status, req.attribute(TIMED_OUT) != null);
            if (cause != null) {
                metrics.rejected(cause);
            }
            accessLog.log(req, res.raw().getHeader(AccessLog.REQUEST_ID), status, nanos);
        });
        http.get("/", (req, res) -> {
            res.type("text/html;charset=utf-8");
            return ApiDocs.demoPage();
        });
        http.post("/predict", (req, res) -> guarded(res, () -> predictWithPermit(req, res)));
        http.post("/explain", (req, res) -> guarded(res, () -> explainWithPermit(req, res)));
        http.get("/health", (req, res) -> {
            res.type(JSON_TYPE);
            MicroBatcher b = batcher;
            if (b == null || draining) {
                res.status(503);
                return json(Map.of("status", draining ? "stopping" : "loading"));
            }
            return json(Map.of("status", "ready", "model", b.current().id()));
        });
        http.get("/model", (req, res) -> guarded(res, () -> requireBatcher().current().info()));
        http.get("/metrics", (req, res) -> {
            res.type(ServeMetrics.contentType());
            return metrics.scrape();
        });
        http.post("/admin/reload", (req, res) -> guarded(res, this::reload));
        http.get("/openapi.json", (req, res) -> {
            res.type(JSON_TYPE);
            return ApiDocs.openApi();
        });
        http.get("/docs", (req, res) -> {
            res.type("text/html;charset=utf-8");
            return ApiDocs.swaggerUiPage();
        });
        http.get("/docs/:file", (req, res) -> {
            if (ApiDocs.swaggerUiFile(req.params(":file"), res.raw())) {
                return "";
            }
            res.status(404);
            res.type(JSON_TYPE);
            return json(Map.of("error", "not found: GET /docs/" + req.params(":file")));
        });
        http.notFound((req, res) -> {
            res.type(JSON_TYPE);
            return json(Map.of("error", "not found: " + req.requestMethod() + " " + req.pathInfo()));
        });
        http.internalServerError((req, res) -> {
            res.type(JSON_TYPE);
            return json(Map.of("error", "internal error"));
        });
        http.exception(Exception.class, (e, req, res) -> {
            log.error("Unhandled error on {} {}", req.requestMethod(), req.pathInfo(), e);
            res.status(500);
            res.type(JSON_TYPE);
            res.body(json(Map.of("error", "internal error")));
        });
    }

    /** Runs a handler, turning refusals into JSON errors with their status and anything else into a bare 500. */
    private String guarded(Response res, Supplier<Object> handler) {
        res.type(JSON_TYPE);
        inFlight.incrementAndGet();
        try {
            if (draining) {
                throw new ApiException(503, "server is shutting down");
            }
            return json(handler.get());
        } catch (ApiException e) {
            res.status(e.status());
            return json(Map.of("error", e.getMessage()));
        } catch (MicroBatcher.QueueFullException e) {
            res.status(429);
            res.header("Retry-After", "1");
            return json(Map.of("error", e.getMessage()));
        } catch (RuntimeException e) {
            log.error("Request failed", e);
            res.status(500);
            return json(Map.of("error", "internal error"));
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private MicroBatcher requireBatcher() {
        MicroBatcher b = batcher;
        if (b == null) {
            throw new ApiException(503, "model is loading");
        }
        return b;
    }

    /** Swaps in the run to serve now; answers once it serves, or with why it could not, the old model serving on. */
    private Object reload() {
        requireBatcher();
        try {
            MicroBatcher.Swapped s = reloader.reload().get();
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("model", s.current());
            a.put("previous", s.previous());
            return a;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new ApiException(500, "reload failed: " + cause.getMessage() + "; model "
                    + batcher.current().id() + " serves on");
        }
    }

    private Object predictWithPermit(Request req, Response res) {
        requireBatcher();
        return withPermit(predictions, res, settings.maxConcurrentPredictions() + " predictions already in progress",
                () -> predict(req, res));
    }

    /** Runs {@code work} holding one of {@code permits}; 429 (with Retry-After) when none is free. */
    private static Object withPermit(Semaphore permits, Response res, String busy, Supplier<Object> work) {
        if (!permits.tryAcquire()) {
            res.header("Retry-After", "1");
            throw new ApiException(429, "server busy: " + busy);
        }
        try {
            return work.get();
        } finally {
            permits.release();
        }
    }

    /** A request's texts, as {@code "text"} (one) or {@code "texts"} (a list of at most {@code maxTexts}). */
    private record Texts(JsonNode body, List<String> texts, boolean one) {
    }

    private Texts readTexts(Request req, Response res, int maxTexts) {
        String type = req.contentType();
        if (type == null || !type.toLowerCase().startsWith(JSON_TYPE)) {
            throw new ApiException(415, "Content-Type must be application/json");
        }
        JsonNode body = parse(readBody(req, res));
        JsonNode text = body.get("text");
        JsonNode texts = body.get("texts");
        if ((text == null) == (texts == null)) {
            throw new ApiException(400, "give either \"text\" (a string) or \"texts\" (a list of strings)");
        }
        List<String> inputs = new ArrayList<>();
        if (text != null) {
            inputs.add(checkText(text, "text"));
        } else {
            if (!texts.isArray() || texts.isEmpty()) {
                throw new ApiException(400, "\"texts\" must be a non-empty list of strings");
            }
            if (texts.size() > maxTexts) {
                throw new ApiException(413, "too many texts: " + texts.size() + " (at most " + maxTexts
                        + " per request)");
            }
            for (int i = 0; i < texts.size(); i++) {
                inputs.add(checkText(texts.get(i), "texts[" + i + "]"));
            }
        }
        accessLog.texts(req, inputs);
        return new Texts(body, inputs, text != null);
    }

    private Object predict(Request req, Response res) {
        MicroBatcher b = requireBatcher();
        Texts in = readTexts(req, res, settings.maxTexts());
        List<String> inputs = in.texts();
        MicroBatcher.Answer a = longTexts(b.current(), inputs) ? readInPasses(req, b, inputs)
                : await(req, b.submit(inputs), settings.predictTimeoutMs(), "prediction");
        accessLog.answered(req, a);
        metrics.waited(a.queuedNanos());
        List<Map<String, Object>> out = new ArrayList<>();
        for (float[] p : a.probabilities()) {
            out.add(answer(a.model(), p));
        }
        return in.one() ? out.get(0) : out;
    }

    /**
     * Whether a request holds a text the model reads in more than one window; refuses (413) one of more than
     * {@code serve.max-windows} windows in all.
     */
    private boolean longTexts(ServedModel serving, List<String> texts) {
        if (serving == null) {
            return false;
        }
        int windows = 0;
        for (String t : texts) {
            windows += serving.predictor().windows(t);
        }
        if (windows > settings.maxWindows()) {
            throw new ApiException(413, "too many windows: the texts are read in " + windows + " windows (at most "
                    + settings.maxWindows() + " a request)");
        }
        return windows > texts.size();
    }

    /**
     * A request with long texts, read as work on the pass thread, one pass of at most
     * {@code serve.long-text-unit-word-pieces} at a time, so that other requests' passes run in between.
     */
    private MicroBatcher.Answer readInPasses(Request req, MicroBatcher b, List<String> texts) {
        MicroBatcher.Work<Predictor.Pass> work = new MicroBatcher.Work<>() {
            Predictor.Reading reading;

            @Override
            public boolean step(ServedModel model) {
                if (reading == null) {
                    int window = Math.max(1, model.predictor().windowLength());
                    reading = model.predictor().read(texts, Math.max(1,
                            (int) (settings.longTextUnitWordPieces() / window)));
                }
                return reading.step();
            }

            @Override
            public Predictor.Pass result() {
                return reading.result();
            }
        };
        MicroBatcher.Done<Predictor.Pass> d = await(req, b.submitWork(work), settings.predictTimeoutMs(),
                "prediction");
        long pieces = 0;
        for (int p : d.result().wordPieces()) {
            pieces += p;
        }
        metrics.readInWindows(texts.size(), pieces);
        return new MicroBatcher.Answer(d.result().probabilities(), d.model(), pieces, d.queuedNanos(),
                d.workNanos());
    }

    private Object explainWithPermit(Request req, Response res) {
        requireBatcher();
        return withPermit(explanations, res, settings.explain().maxConcurrent() + " explanations already in progress",
                () -> withPermit(predictions, res, settings.maxConcurrentPredictions()
                        + " predictions and explanations already in progress", () -> explain(req, res)));
    }

    /**
     * Explains each text's chosen labels (or {@code "label"}) on the pass thread, unit by unit between prediction
     * batches: one pass of at most {@code serve.explain.unit-word-pieces} word pieces at a time.
     */
    private Object explain(Request req, Response res) {
        MicroBatcher b = requireBatcher();
        Texts in = readTexts(req, res, settings.explain().maxTexts());
        JsonNode labelNode = in.body().get("label");
        if (labelNode != null && !labelNode.isTextual()) {
            throw new ApiException(400, "\"label\" must be a string");
        }
        String label = labelNode == null ? null : labelNode.asText();
        ServedModel serving = b.current();
        if (label != null && !serving.labels().contains(label)) {
            throw new ApiException(400, "unknown label \"" + label + "\": the model's labels are " + serving.labels());
        }
        if (serving.explaining() == null) {
            throw new ApiException(501, "model " + serving.id() + " cannot explain");
        }
        long unit = settings.explain().unitWordPieces();
        MicroBatcher.Work<List<Explainer.Explained>> work = new MicroBatcher.Work<>() {
            final List<Explainer.Explained> done = new ArrayList<>();
            Explaining explaining;
            Explaining.Steps steps;

            @Override
            public boolean step(ServedModel model) {
                if (model.explaining() == null) {
                    throw new ApiException(501, "model " + model.id() + " cannot explain");
                }
                if (explaining == null) {
                    explaining = model.explaining().get(); // the first explanation of a model loads its explainer
                    return false;
                }
                if (steps == null) {
                    steps = explaining.start(in.texts().get(done.size()), label, unit);
                }
                if (steps.step()) {
                    done.add(steps.result());
                    steps = null;
                }
                return done.size() == in.texts().size();
            }

            @Override
            public List<Explainer.Explained> result() {
                return done;
            }
        };
        MicroBatcher.Done<List<Explainer.Explained>> d = await(req, b.submitWork(work),
                settings.explain().timeoutMs(), "explanation");
        List<Map<String, Object>> out = new ArrayList<>();
        for (Explainer.Explained e : d.result()) {
            Map<String, Object> a = answer(d.model(), e.probabilities());
            a.putAll(e.toMap(d.model().labels()));
            out.add(a);
        }
        return in.one() ? out.get(0) : out;
    }

    private String checkText(JsonNode n, String field) {
        if (n == null || !n.isTextual()) {
            throw new ApiException(400, "\"" + field + "\" must be a string");
        }
        String s = n.asText();
        if (s.isBlank()) {
            throw new ApiException(400, "\"" + field + "\" is empty");
        }
        if (s.length() > settings.maxTextChars()) {
            throw new ApiException(413, "\"" + field + "\" is too long: " + s.length() + " characters (at most "
                    + settings.maxTextChars() + ")");
        }
        return s;
    }

    /**
     * One text's answer, naming the model that computed it: its label (single-label) or every label at or over its
     * threshold (multi-label, possibly none), and every label's probability.
     */
    private static Map<String, Object> answer(ServedModel m, float[] p) {
        Map<String, Object> probabilities = new LinkedHashMap<>();
        for (int i = 0; i < p.length; i++) {
            probabilities.put(m.labels().get(i), (double) p[i]);
        }
        Map<String, Object> a = new LinkedHashMap<>();
        if (m.task().multiLabel()) {
            a.put("labels", m.task().chosen(p));
        } else {
            a.put("label", m.task().chosen(p).get(0));
        }
        a.put("probabilities", probabilities);
        a.put("model", m.id());
        return a;
    }

    /**
     * Waits for a prediction or an explanation ({@code what}); on timeout the request is cancelled, so the batcher
     * drops it if not yet begun (an explanation at its next unit).
     */
    private static <T> T await(Request req, CompletableFuture<T> f, long timeoutMs, String what) {
        try {
            return f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            req.attribute(TIMED_OUT, true);
            throw new ApiException(503, what + " timed out after " + timeoutMs + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException refused) {
                throw refused;
            }
            throw new IllegalStateException(what + " failed", e.getCause());
        }
    }

    /**
     * Reads the body, refusing (413) more than {@code max-body-bytes} whatever Content-Length and
     * Transfer-Encoding say. It reads Jetty's own stream: Spark's request wrapper would first buffer the whole
     * body unless Transfer-Encoding is exactly {@code chunked}. A refused connection is closed, not drained.
     */
    private byte[] readBody(Request req, Response res) {
        HttpServletRequest raw = req.raw();
        ServletRequest jetty = raw instanceof ServletRequestWrapper w ? w.getRequest() : raw;
        long declared = raw.getContentLengthLong();
        if (declared > settings.maxBodyBytes()) {
            res.header("Connection", "close");
            throw new ApiException(413, "request body too large: " + declared + " bytes (at most "
                    + settings.maxBodyBytes() + ")");
        }
        try {
            byte[] body = readAtMost(jetty.getInputStream(), settings.maxBodyBytes() + 1, res);
            if (body.length > settings.maxBodyBytes()) {
                res.header("Connection", "close");
                throw new ApiException(413, "request body too large (at most " + settings.maxBodyBytes()
                        + " bytes)");
            }
            return body;
        } catch (IOException e) {
            throw new ApiException(400, "cannot read request body: " + e.getMessage());
        }
    }

    /**
     * Reads up to {@code limit} bytes, cutting off (408) a body that arrives slower than
     * {@code serve.min-request-data-rate} once its first second has passed. A client that sends nothing at all is
     * cut off by Jetty's idle timeout.
     */
    private byte[] readAtMost(InputStream in, long limit, Response res) throws IOException {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[16 << 10];
        long start = System.nanoTime();
        for (int n; body.size() < limit && (n = in.read(buf, 0, (int) Math.min(buf.length,
                limit - body.size()))) > 0; ) {
            body.write(buf, 0, n);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (settings.minRequestDataRate() > 0 && seconds > 1
                    && body.size() < settings.minRequestDataRate() * (seconds - 1)) {
                res.header("Connection", "close");
                throw new ApiException(408, "request body arrives too slowly: " + body.size() + " bytes in "
                        + String.format(java.util.Locale.ROOT, "%.1f", seconds) + " s (at least "
                        + settings.minRequestDataRate() + " bytes/s)");
            }
        }
        return body.toByteArray();
    }

    private static JsonNode parse(byte[] body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n == null || !n.isObject()) {
                throw new ApiException(400, "body must be a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiException(400, "cannot read request body");
        }
    }

    private static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Graceful stop: new requests get 503, those in flight finish (up to the grace period), then the batcher and
     * the HTTP server stop.
     */
    @Override
    public void close() {
        draining = true;
        long deadline = System.currentTimeMillis() + settings.shutdownGraceMs();
        while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (reloader != null) {
            reloader.close();
        }
        if (batcher != null) {
            batcher.close();
        }
        http.stop();
        http.awaitStop();
        log.info("Server stopped");
    }
}
