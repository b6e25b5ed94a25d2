package dev.bertclf.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * What {@code GET /metrics} shows, in Prometheus' text format: requests, latencies, the queue, forward passes, texts
 * and word pieces, rejections by cause, model swaps, the model served, and the JVM's and the process's own metrics
 * (resident memory included). One registry per server, so that servers in one JVM (tests) count apart.
 */
public final class ServeMetrics {
    /** Latency buckets in seconds, resolving 10 ms to 30 s. */
    static final double[] LATENCY_BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("bertclf_requests_total")
            .help("HTTP requests answered, by route and status").labelNames("route", "status").register(registry);
    private final Histogram latency = Histogram.builder().name("bertclf_request_duration_seconds")
            .help("Time from a request's arrival to its answer, by route").labelNames("route").classicOnly()
            .classicUpperBounds(LATENCY_BUCKETS).register(registry);
    private final Histogram queueWait = Histogram.builder().name("bertclf_queue_wait_seconds")
            .help("Time a /predict request waited for its forward pass to begin").classicOnly()
            .classicUpperBounds(LATENCY_BUCKETS).register(registry);
    private final Histogram passTime = Histogram.builder().name("bertclf_forward_pass_seconds")
            .help("Time of one forward pass over a batch").classicOnly().classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final Histogram batchSize = Histogram.builder().name("bertclf_batch_texts")
            .help("Texts in one forward pass").classicOnly().classicUpperBounds(BATCH_BUCKETS).register(registry);
    private final Counter texts = Counter.builder().name("bertclf_texts_total")
            .help("Texts classified").register(registry);
    private final Counter wordPieces = Counter.builder().name("bertclf_word_pieces_total")
            .help("Word pieces run through forward passes, padding not counted").register(registry);
    private final Counter rejections = Counter.builder().name("bertclf_rejections_total")
            .help("Requests refused, by cause: too_large (413), busy (429), unavailable (503), timeout (503 after"
                    + " predict-timeout-ms), unauthorized (401), slow_body (408)")
            .labelNames("cause").register(registry);
    private final Counter swaps = Counter.builder().name("bertclf_model_loads_total")
            .help("Models loaded to serve, by result (loaded or failed)").labelNames("result").register(registry);
    private final Info model = Info.builder().name("bertclf_model_info")
            .help("The model being served").labelNames("model", "base_model", "precision").register(registry);
    private String[] modelLabels;

    public ServeMetrics() {
        JvmMetrics.builder().register(registry);
    }

    /** Queue depth in texts, read at each scrape. */
    void queueDepth(IntSupplier queuedTexts) {
        GaugeWithCallback.builder().name("bertclf_queue_texts").help("Texts waiting for a forward pass")
                .callback(cb -> cb.call(queuedTexts.getAsInt())).register(registry);
    }

    void answered(String route, int status, long nanos) {
        requests.labelValues(route, Integer.toString(status)).inc();
        latency.labelValues(route).observe(nanos / 1e9);
    }

    void rejected(String cause) {
        rejections.labelValues(cause).inc();
    }

    void waited(long nanos) {
        queueWait.observe(nanos / 1e9);
    }

    /** One forward pass over {@code n} texts of {@code pieces} word pieces in all. */
    void passed(int n, long pieces, long nanos) {
        passTime.observe(nanos / 1e9);
        batchSize.observe(n);
        texts.inc(n);
        wordPieces.inc(pieces);
    }

    /** Texts read in windows, a pass at a time between other passes: counted, their passes not timed one by one. */
    void readInWindows(int n, long pieces) {
        texts.inc(n);
        wordPieces.inc(pieces);
    }

    /** The cause a refused request is counted under, from its status; null for a request not refused. */
    static String causeOf(int status, boolean timedOut) {
        return switch (status) {
            case 401 -> "unauthorized";
            case 408 -> "slow_body";
            case 413 -> "too_large";
            case 429 -> "busy";
            case 503 -> timedOut ? "timeout" : "unavailable";
            default -> null;
        };
    }

    void loaded(String modelId, String baseModel, String precision) {
        swaps.labelValues("loaded").inc();
        synchronized (model) {
            if (modelLabels != null) {
                model.remove(modelLabels);
            }
            modelLabels = new String[]{modelId, baseModel, precision};
            model.addLabelValues(modelLabels);
        }
    }

    void loadFailed() {
        swaps.labelValues("failed").inc();
    }

    /** Every metric in Prometheus' text format (version 0.0.4). */
    String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
