package dev.bertclf.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;

import java.nio.file.Path;

/**
 * The validated, resolved configuration of one run, as immutable records. Built once by {@link ConfigLoader}.
 *
 * @param config the resolved {@code bertclf} tree, saved with every run
 */
public record Settings(String experiment, ModelSettings model, DataSettings data, FeatureSettings features,
                       TrainSettings train, ServeSettings serve, Config config) {

    /** @param base descriptor name under zoo-dir, or a path to a descriptor file */
    public record ModelSettings(String base, Path zooDir, Path cacheDir, int encoderLayers, int frozenLayers,
                                double dropout) {
        /** The descriptor file that {@code base} names. */
        public Path descriptorFile() {
            return base.endsWith(".conf") ? Path.of(base) : zooDir.resolve(base + ".conf");
        }
    }

    public enum BadRowPolicy { FAIL, SKIP }

    /**
     * @param validation     a count (>= 1) or a fraction (< 1) of the training rows
     * @param downloadBytes  expected archive size (0 = unchecked)
     * @param downloadSha256 expected archive SHA-256, lower-case hex ("" = unchecked)
     */
    public record DataSettings(Path train, Path test, String textColumn, String labelColumn, int trainLimit,
                               int testLimit, double validation, BadRowPolicy badRows, long seed,
                               boolean downloadEnabled, String downloadUrl, long downloadBytes,
                               String downloadSha256, Path downloadDir) {
    }

    public record FeatureSettings(int maxLength, String truncation, double headFraction, boolean fixedLength,
                                  boolean stripHtmlBreaks) {
    }

    /** @param resume run folder to continue, or null */
    public record TrainSettings(int epochs, int batchSize, String optimizer, double learningRate, double weightDecay,
                                String schedule, double warmup, long seed, int checkpointEvery, Path resume,
                                String metric, int patience, boolean keepBest, int evalBatchSize, Path runsDir,
                                int logEvery) {
    }

    /**
     * @param run                      run folder to serve, or null for the newest
     * @param maxConcurrentPredictions /predict requests read or awaited at once; more get 429
     * @param idleTimeoutMs            Jetty's connection idle timeout
     * @param minRequestDataRate       bytes per second below which a body upload is cut off (0 = none)
     */
    public record ServeSettings(String host, int port, Path run, int threads, int maxConcurrentPredictions,
                                long idleTimeoutMs, long minRequestDataRate, long predictTimeoutMs,
                                long maxBodyBytes, int maxTexts, int maxTextChars, boolean batching,
                                int maxBatchSize, int maxWaitMs, int queueCapacity, long shutdownGraceMs) {
        /** Jetty threads never given to /predict: acceptor, selector, reserved executor, /health and /model. */
        public static final int RESERVED_THREADS = 8;

        /** These settings on a free loopback port, serving {@code run}, with batching on or off (benchmarks). */
        public ServeSettings onLoopback(Path run, boolean batching) {
            return new ServeSettings("127.0.0.1", 0, run, threads, maxConcurrentPredictions, idleTimeoutMs,
                    minRequestDataRate, predictTimeoutMs, maxBodyBytes, maxTexts, maxTextChars, batching,
                    maxBatchSize, maxWaitMs, queueCapacity, shutdownGraceMs);
        }
    }

    /** The resolved configuration as HOCON, for logs and run folders. */
    public String render() {
        return ConfigFactory.empty().withValue(ConfigLoader.ROOT, config.root()).root()
                .render(ConfigRenderOptions.defaults().setOriginComments(false).setComments(false).setJson(false)
                        .setFormatted(true));
    }
}
