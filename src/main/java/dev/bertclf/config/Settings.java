package dev.bertclf.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The validated, resolved configuration of one run, as immutable records: one record per section of
 * {@code reference.conf}, each built and checked by its own {@code read} factory. Built once by
 * {@link ConfigLoader}. A new key touches {@code reference.conf} and one record.
 *
 * @param config the resolved {@code bertclf} tree, saved with every run
 */
public record Settings(String experiment, ModelSettings model, DataSettings data, FeatureSettings features,
                       TrainSettings train, InferenceSettings inference, EngineSettings engine, ServeSettings serve,
                       ScoreSettings score, ExplainSettings explain, Config config) {

    /**
     * How a closed choice is written in the config: the constant's name in lower case, {@code _} as {@code +}; a
     * {@link Task} with {@code _} as {@code -}.
     */
    public static String nameOf(Enum<?> choice) {
        return choice.name().toLowerCase(Locale.ROOT).replace('_', choice instanceof Task ? '-' : '+');
    }

    /** What a text's labels are: exactly one of the classes, or any number of them (none included). */
    public enum Task {
        /** One class per text: softmax over the classes, cross-entropy, the most probable class. */
        SINGLE_LABEL,
        /** Any set of labels per text: a sigmoid per label, binary cross-entropy, a threshold per label. */
        MULTI_LABEL
    }

    /**
     * The decision threshold of a multi-label classifier ({@code model.threshold}): one for every label, or tuned per
     * label on the validation split ({@code value} then stays for labels the validation split never carries).
     */
    public record Threshold(boolean tuned, double value) {
    }

    /**
     * @param base            descriptor name under zoo-dir, or a path to a descriptor file
     * @param repository      Maven repository that pretrained weights not on the class path are fetched from
     * @param localRepository local Maven repository that fetched weights are kept in
     */
    public record ModelSettings(String base, Path zooDir, Path cacheDir, int encoderLayers, int frozenLayers,
                                double dropout, URI repository, Path localRepository, Task task,
                                Threshold threshold) {
        public static final String MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2";

        /** Maven's own: {@code -Dmaven.repo.local} if set, else {@code ~/.m2/repository}. */
        public static Path defaultLocalRepository() {
            String set = System.getProperty("maven.repo.local");
            return set != null && !set.isBlank() ? Path.of(set)
                    : Path.of(System.getProperty("user.home"), ".m2", "repository");
        }

        /** The descriptor file that {@code base} names. */
        public Path descriptorFile() {
            return base.endsWith(".conf") ? Path.of(base) : zooDir.resolve(base + ".conf");
        }

        /** The descriptor names under a zoo folder, sorted. */
        static List<String> availableDescriptors(Path zooDir) {
            try (Stream<Path> files = Files.isDirectory(zooDir) ? Files.list(zooDir) : Stream.empty()) {
                return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".conf"))
                        .map(n -> n.substring(0, n.length() - ".conf".length())).sorted().toList();
            } catch (java.io.IOException e) {
                return List.of();
            }
        }

        static ModelSettings read(ConfigValues v) {
            Path local = v.optionalPath("model.local-repository");
            var m = new ModelSettings(v.string("model.base"), v.path("model.zoo-dir"), v.path("model.cache-dir"),
                    v.intIn("model.encoder-layers", 1, 48), v.intIn("model.frozen-layers", 0, 48),
                    v.doubleIn("model.dropout", 0, 0.9), repository(v),
                    local != null ? local : defaultLocalRepository(), v.choice("model.task", Task.class),
                    v.threshold("model.threshold"));
            if (m.frozenLayers() > m.encoderLayers()) {
                v.problem(ConfigLoader.ROOT + ".model.frozen-layers (" + m.frozenLayers() + ") must not exceed "
                        + ConfigLoader.ROOT + ".model.encoder-layers (" + m.encoderLayers() + ")");
            }
            if (v.checkFiles() && m.base() != null && m.zooDir() != null && !Files.isRegularFile(m.descriptorFile())) {
                v.problem(ConfigLoader.ROOT + ".model.base: no model descriptor " + m.descriptorFile().toAbsolutePath()
                        + "; available in " + m.zooDir() + ": " + availableDescriptors(m.zooDir()));
            }
            return m;
        }

        private static URI repository(ConfigValues v) {
            String s = v.string("model.repository");
            try {
                URI u = new URI(s == null ? MAVEN_CENTRAL : s);
                if (u.getScheme() != null && List.of("http", "https", "file").contains(u.getScheme())) {
                    return u;
                }
            } catch (URISyntaxException e) {
                // reported below
            }
            v.problem(ConfigLoader.ROOT + ".model.repository must be an http(s) or file URL: " + s);
            return URI.create(MAVEN_CENTRAL);
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
                               String downloadSha256, Path downloadDir, String labelSeparator,
                               List<String> labelColumns, String labelPrefix) {

        /** These settings with other text and label columns and bad-row policy (a command's own overrides). */
        public DataSettings withColumns(String text, String label, BadRowPolicy policy) {
            return new DataSettings(train, test, text, label, trainLimit, testLimit, validation, policy, seed,
                    downloadEnabled, downloadUrl, downloadBytes, downloadSha256, downloadDir, labelSeparator,
                    labelColumns, labelPrefix);
        }

        /** Whether labels come as 0/1 columns (named, or by prefix) rather than in the label column. */
        public boolean indicatorColumns() {
            return !labelColumns.isEmpty() || !labelPrefix.isEmpty();
        }

        static DataSettings read(ConfigValues v) {
            var d = new DataSettings(v.path("data.train"), v.path("data.test"), v.string("data.text-column"),
                    v.string("data.label-column"), v.intIn("data.train-limit", 0, Integer.MAX_VALUE),
                    v.intIn("data.test-limit", 0, Integer.MAX_VALUE), v.doubleIn("data.validation", 0, 1e9),
                    v.choice("data.bad-rows", BadRowPolicy.class), v.longIn("data.seed"),
                    v.bool("data.download.enabled"), v.string("data.download.url"), v.longIn("data.download.bytes"),
                    v.string("data.download.sha256"), v.path("data.download.dir"), v.string("data.label-separator"),
                    v.stringList("data.label-columns"), v.string("data.label-prefix"));
            if (!d.labelColumns().isEmpty() && d.labelPrefix() != null && !d.labelPrefix().isEmpty()) {
                v.problem(ConfigLoader.ROOT + ".data.label-columns and " + ConfigLoader.ROOT
                        + ".data.label-prefix both name the label columns: set one of them");
            }
            if (d.downloadSha256() != null && !d.downloadSha256().matches("|[0-9a-f]{64}")) {
                v.problem(ConfigLoader.ROOT + ".data.download.sha256 must be 64 lower-case hex digits or empty: "
                        + d.downloadSha256());
            }
            if (d.validation() > 1 && d.validation() != Math.rint(d.validation())) {
                v.problem(ConfigLoader.ROOT + ".data.validation must be a fraction below 1 or a whole count: "
                        + d.validation());
            }
            if (!d.downloadEnabled()) {
                v.requireFile("data.train", d.train());
                v.requireFile("data.test", d.test());
            }
            return d;
        }
    }

    /** Padding of a batch: every batch to {@code max-length}, or to the longest text of the batch. */
    public enum Padding { FIXED, BATCH }

    /**
     * How raw text becomes BERT input.
     *
     * @param maxLength          longest input in word pieces, [CLS] and [SEP] included, in training
     * @param truncation         what to keep of longer texts
     * @param headFraction       for head+tail: share of the budget taken from the beginning
     * @param padding            pad every batch to {@code maxLength}, or to its longest text
     * @param stripHtmlBreaks    replace {@code <br />} tags (IMDB has them) by spaces
     * @param inferenceMaxLength longest input when the trained classifier is tested and used (test evaluation,
     *                           Evaluate, Predict, Serve, Score); BERT's position embeddings are pretrained to 512,
     *                           so a classifier trained on short inputs may read longer ones
     * @param longText           how the trained classifier reads a text longer than one input: cut
     *                           ({@code truncation}), or read whole in overlapping windows ({@code windows})
     * @param windows            the windows' length, stride, pooling and cap, for {@link LongText#WINDOWS}
     */
    public record FeatureSettings(int maxLength, Truncation truncation, double headFraction, Padding padding,
                                  boolean stripHtmlBreaks, int inferenceMaxLength, LongText longText,
                                  WindowSettings windows) {
        /** Settings that read inputs of {@code maxLength} in training and inference alike, long texts cut. */
        public FeatureSettings(int maxLength, Truncation truncation, double headFraction, Padding padding,
                               boolean stripHtmlBreaks) {
            this(maxLength, truncation, headFraction, padding, stripHtmlBreaks, maxLength, LongText.TRUNCATE,
                    WindowSettings.DEFAULT);
        }

        public boolean fixedLength() {
            return padding == Padding.FIXED;
        }

        /** These settings with {@code maxLength} set to the inference length. */
        public FeatureSettings atInference() {
            return new FeatureSettings(inferenceMaxLength, truncation, headFraction, padding, stripHtmlBreaks,
                    inferenceMaxLength, longText, windows);
        }

        /** These settings reading long texts in {@code windows}. */
        public FeatureSettings inWindows(WindowSettings windows) {
            return new FeatureSettings(maxLength, truncation, headFraction, padding, stripHtmlBreaks,
                    inferenceMaxLength, LongText.WINDOWS, windows);
        }

        /** The longest input a pass reads: the window's length when texts are read in windows. */
        public int passLength() {
            return longText == LongText.WINDOWS ? windows.length() : maxLength;
        }

        static FeatureSettings read(ConfigValues v) {
            int maxLength = v.intIn("features.max-length", 3, 512);
            int inference = v.intIn("features.inference-max-length", 0, 512);
            if (inference > 0 && inference < 3) {
                v.problem(ConfigLoader.ROOT + ".features.inference-max-length = " + inference
                        + " is too short: 0 (as max-length) or at least 3");
            }
            return new FeatureSettings(maxLength, v.choice("features.truncation", Truncation.class),
                    v.doubleIn("features.head-fraction", 0, 1), v.choice("features.length", Padding.class),
                    v.bool("features.strip-html-breaks"), inference == 0 ? maxLength : inference,
                    v.choice("features.long-text", LongText.class), WindowSettings.read(v));
        }
    }

    /** How the trained classifier reads a text longer than one input. */
    public enum LongText {
        /** Cut to {@code inference-max-length} word pieces by {@code features.truncation}. */
        TRUNCATE,
        /** Read whole, in overlapping windows whose class scores are pooled. */
        WINDOWS
    }

    /** How the windows' class scores become the text's: averaged, or the largest, class by class. */
    public enum WindowPooling { MEAN, MAX }

    /**
     * Windows over a long text ({@code features.long-text = windows}).
     *
     * @param length     word pieces of a window, [CLS] and [SEP] included
     * @param stride     word pieces from one window's start to the next's; the last window ends at the text's end
     * @param pooling    how the windows' logits become the text's
     * @param maxWindows most windows of one text: a longer text is first cut by {@code features.truncation} to what
     *                   that many windows cover
     */
    public record WindowSettings(int length, int stride, WindowPooling pooling, int maxWindows) {
        public static final WindowSettings DEFAULT = new WindowSettings(128, 64, WindowPooling.MEAN, 16);

        /** Word pieces of text one window holds, [CLS] and [SEP] aside. */
        public int body() {
            return length - 2;
        }

        /** The most word pieces of one text that {@code maxWindows} windows cover. */
        public int coverage() {
            return body() + (maxWindows - 1) * stride;
        }

        static WindowSettings read(ConfigValues v) {
            var w = new WindowSettings(v.intIn("features.window", 3, 512), v.intIn("features.stride", 1, 512),
                    v.choice("features.window-pooling", WindowPooling.class), v.intIn("features.max-windows", 1,
                    100_000));
            if (w.stride() > w.body()) {
                v.problem(ConfigLoader.ROOT + ".features.stride = " + w.stride() + " would skip word pieces: at most"
                        + " features.window - 2 = " + w.body());
            }
            return w;
        }
    }

    public enum Optimizer {
        ADAM,
        /** Adam with decoupled weight decay of the weight matrices, as in BERT. */
        ADAMW
    }

    public enum Schedule {
        /** Linear warm-up, then linear decay to 0. */
        LINEAR,
        /** Linear warm-up, then constant. */
        CONSTANT
    }

    /** The number format of matrix products. */
    public enum Precision {
        /** float32 throughout. */
        FP32,
        /**
         * Products of bf16-rounded inputs with float32 accumulation and outputs; weights, gradients and optimizer
         * state float32 ("mixed precision"). Needs a CPU with AVX512-BF16 or AMX.
         */
        BF16,
        /**
         * Inference only: the dense layers' products from u8 activations (quantized per product) and s8 weights
         * (quantized once per load, per output column), with int32 sums; every other op float32. Any x86-64 CPU; 7-bit
         * activations where it has no VNNI.
         */
        INT8
    }

    /** Validation metric for early stopping and keep-best. */
    public enum Metric {
        ACCURACY, F1, LOSS;

        public boolean lowerIsBetter() {
            return this == LOSS;
        }
    }

    /** @param resume run folder to continue, or null */
    public record TrainSettings(int epochs, int batchSize, Optimizer optimizer, double learningRate,
                                double weightDecay, Schedule schedule, double warmup, long seed, int checkpointEvery,
                                Path resume, Metric metric, int patience, boolean keepBest, int evalBatchSize,
                                Path runsDir, int logEvery, Precision precision, ClassWeights classWeights) {

        static TrainSettings read(ConfigValues v) {
            var t = new TrainSettings(v.intIn("train.epochs", 1, 1000), v.intIn("train.batch-size", 1, 4096),
                    v.choice("train.optimizer", Optimizer.class), v.doubleIn("train.learning-rate", 1e-12, 1),
                    v.doubleIn("train.weight-decay", 0, 1), v.choice("train.schedule", Schedule.class),
                    v.doubleIn("train.warmup", 0, 1), v.longIn("train.seed"),
                    v.intIn("train.checkpoint-every", 0, Integer.MAX_VALUE), v.optionalPath("train.resume"),
                    v.choice("train.metric", Metric.class), v.intIn("train.patience", 0, 1000),
                    v.bool("train.keep-best"), v.intIn("train.eval-batch-size", 1, 4096), v.path("train.runs-dir"),
                    v.intIn("train.log-every", 1, Integer.MAX_VALUE), v.choice("train.precision", Precision.class),
                    v.classWeights("train.class-weights"));
            if (v.checkFiles() && t.resume() != null && !Files.isDirectory(t.resume())) {
                v.problem(ConfigLoader.ROOT + ".train.resume: no run folder " + t.resume().toAbsolutePath());
            }
            checkBf16("train.precision", t.precision(), v);
            if (t.precision() == Precision.INT8) {
                v.problem(ConfigLoader.ROOT + ".train.precision = \"int8\": int8 is for inference only"
                        + " (inference.precision); train in \"fp32\" or \"bf16\"");
            }
            return t;
        }
    }

    /**
     * The weight of each class in the training loss ({@code train.class-weights}).
     *
     * @param given for {@link Mode#GIVEN}: weights by label; labels not named weigh 1
     */
    public record ClassWeights(Mode mode, Map<String, Double> given) {
        public enum Mode { NONE, BALANCED, GIVEN }

        public ClassWeights {
            given = Map.copyOf(given);
        }
    }

    /**
     * How this machine runs a trained classifier: the test (and validation) evaluation of a training run, Evaluate,
     * Predict, Serve and Score. Read from the command's own configuration, never from the run folder: it depends on
     * the CPU the classifier runs on, not on the one it was trained on.
     *
     * @param precision the number format of the forward pass's matrix products
     */
    public record InferenceSettings(Precision precision) {
        static InferenceSettings read(ConfigValues v) {
            var i = new InferenceSettings(v.choice("inference.precision", Precision.class));
            checkBf16("inference.precision", i.precision(), v);
            return i;
        }
    }

    /** The engine's kernels: the optional fast ones, or libnd4j's own alone (for diagnosis). */
    public enum Kernels { FAST, REFERENCE }

    /**
     * How this machine's JVM computes, chosen before the first graph is loaded: a setting of the machine, like
     * {@code inference.precision}, never read from a run folder.
     *
     * @param kernels {@code fast}: oneDNN's products, LayerNorm and GELU, output-array reuse and unfilled buffers;
     *                {@code reference}: libnd4j's own kernels alone, the same numbers within float rounding, slower
     */
    public record EngineSettings(Kernels kernels) {
        static EngineSettings read(ConfigValues v) {
            return new EngineSettings(v.choice("engine.kernels", Kernels.class));
        }
    }

    /** Refuses bf16 at {@code key} where the CPU the settings are for is known and has no bf16 products. */
    private static void checkBf16(String key, Precision precision, ConfigValues v) {
        if (v.cpu() != null && precision == Precision.BF16) {
            String noBf16 = bf16Unavailable(key, v.cpu());
            if (noBf16 != null) {
                v.problem(noBf16);
            }
        }
    }

    /**
     * Why bf16 products at {@code key} cannot be used on {@code cpu}, or null where they can; also for the machines
     * that run a classifier elsewhere (a Spark executor).
     */
    public static String bf16Unavailable(String key, CpuInfo.Cpu cpu) {
        return cpu.hasBf16() ? null : ConfigLoader.ROOT + "." + key + " = \"bf16\" needs a CPU"
                + " with bf16 products (flag " + String.join(" or ", CpuInfo.BF16_FLAGS.stream().sorted().toList())
                + " in /proc/cpuinfo, not capped off by " + CpuInfo.DNNL_CAP + " or " + CpuInfo.ONEDNN_CAP + "); this one ("
                + cpu.described() + ") lacks them, as " + cpu.whyNoBf16() + ": use \"fp32\"";
    }

    /**
     * @param run                      run folder to serve, or null for the newest complete one
     * @param watchRuns                {@code serve.run = latest}: serve the newest complete run, and swap in a newer
     *                                 one as it completes
     * @param maxConcurrentPredictions /predict requests read or awaited at once; more get 429
     * @param idleTimeoutMs            Jetty's connection idle timeout
     * @param minRequestDataRate       bytes per second below which a body upload is cut off (0 = none)
     * @param warmupPasses             forward passes of a short text before the first model serves (0 = none)
     * @param reloadWarmupPasses       the same for a model swapped in later
     * @param access                   who may call which route: API keys, open routes, CORS origins
     * @param logTexts                 whether the access log holds the request's texts
     * @param maxWindows               most windows of one /predict request, where the model reads long texts in
     *                                 windows; more get 413
     * @param longTextUnitWordPieces   the most word pieces of one pass of such a request on the pass thread (at
     *                                 least one window)
     */
    public record ServeSettings(String host, int port, Path run, boolean watchRuns, long watchIntervalMs,
                                int threads, int maxConcurrentPredictions,
                                long idleTimeoutMs, long minRequestDataRate, long predictTimeoutMs,
                                long maxBodyBytes, int maxTexts, int maxTextChars, int maxWindows,
                                int longTextUnitWordPieces, boolean batching,
                                int maxBatchSize, int maxWaitMs, int queueCapacity, long shutdownGraceMs,
                                int warmupPasses, int reloadWarmupPasses, Access access, boolean logTexts,
                                Explaining explain) {
        /** Jetty threads never given to /predict: acceptor, selector, reserved executor, /health and /model. */
        public static final int RESERVED_THREADS = 8;
        /** The value of {@code serve.run} that watches for newer runs. */
        public static final String LATEST = "latest";

        /**
         * @param apiKeysFile    SHA-256 digests of the accepted API keys, one per line; null = no keys asked
         * @param openRoutes     routes answered without a key when keys are asked
         * @param allowedOrigins origins a browser may call from (CORS); {@code *} for any
         */
        public record Access(Path apiKeysFile, List<String> openRoutes, List<String> allowedOrigins) {
            static Access read(ConfigValues v) {
                Access a = new Access(v.optionalPath("serve.api-keys-file"), v.stringList("serve.open-routes"),
                        v.stringList("serve.cors.allowed-origins"));
                v.requireFile("serve.api-keys-file", a.apiKeysFile());
                for (String r : a.openRoutes()) {
                    if (!r.startsWith("/")) {
                        v.problem(ConfigLoader.ROOT + ".serve.open-routes: \"" + r + "\" is not a path (\"/health\")");
                    }
                }
                for (String o : a.allowedOrigins()) {
                    if (!o.equals("*") && !o.matches("https?://[^/\\s]+")) {
                        v.problem(ConfigLoader.ROOT + ".serve.cors.allowed-origins: \"" + o
                                + "\" is not an origin (scheme://host[:port], or *)");
                    }
                }
                return a;
            }
        }

        /**
         * {@code POST /explain}: its own limits.
         *
         * @param maxTexts       texts per request
         * @param maxConcurrent  requests in progress at once
         * @param timeoutMs      how long a request waits for its answer
         * @param unitWordPieces the most word pieces of one pass of an explanation on the pass thread
         */
        public record Explaining(int maxTexts, int maxConcurrent, long timeoutMs, long unitWordPieces) {
            static Explaining read(ConfigValues v) {
                return new Explaining(v.intIn("serve.explain.max-texts", 1, 1000),
                        v.intIn("serve.explain.max-concurrent", 1, 1000),
                        v.intIn("serve.explain.timeout-ms", 1, Integer.MAX_VALUE),
                        v.intIn("serve.explain.unit-word-pieces", 1, 1 << 20));
            }
        }

        /** These settings on a free loopback port, serving {@code run}, with batching on or off (benchmarks). */
        public ServeSettings onLoopback(Path run, boolean batching) {
            return new ServeSettings("127.0.0.1", 0, run, run == null && watchRuns, watchIntervalMs, threads,
                    maxConcurrentPredictions, idleTimeoutMs, minRequestDataRate, predictTimeoutMs, maxBodyBytes,
                    maxTexts, maxTextChars, maxWindows, longTextUnitWordPieces, batching, maxBatchSize, maxWaitMs, queueCapacity, shutdownGraceMs,
                    warmupPasses, reloadWarmupPasses, access, logTexts, explain);
        }

        static ServeSettings read(ConfigValues v) {
            String run = v.string("serve.run");
            boolean latest = LATEST.equals(run);
            var s = new ServeSettings(v.string("serve.host"), v.intIn("serve.port", 0, 65535),
                    latest ? null : v.optionalPath("serve.run"), latest,
                    v.intIn("serve.watch-interval-ms", 100, Integer.MAX_VALUE), v.intIn("serve.threads", 10, 1000),
                    v.intIn("serve.max-concurrent-predictions", 1, 1000),
                    v.intIn("serve.idle-timeout-ms", 100, Integer.MAX_VALUE),
                    v.intIn("serve.min-request-data-rate", 0, Integer.MAX_VALUE),
                    v.intIn("serve.predict-timeout-ms", 1, Integer.MAX_VALUE), v.longIn("serve.max-body-bytes"),
                    v.intIn("serve.max-texts", 1, 100_000), v.intIn("serve.max-text-chars", 1, Integer.MAX_VALUE),
                    v.intIn("serve.max-windows", 1, 1_000_000),
                    v.intIn("serve.long-text-unit-word-pieces", 1, 1 << 20),
                    v.bool("serve.batching.enabled"), v.intIn("serve.batching.max-batch-size", 1, 1024),
                    v.intIn("serve.batching.max-wait-ms", 0, 10_000),
                    v.intIn("serve.batching.queue-capacity", 1, 1_000_000), v.longIn("serve.shutdown-grace-ms"),
                    v.intIn("serve.warmup-passes", 0, 10_000), v.intIn("serve.reload-warmup-passes", 0, 10_000),
                    Access.read(v), v.bool("serve.log-texts"), Explaining.read(v));
            if (s.maxBodyBytes() < 1) {
                v.problem(ConfigLoader.ROOT + ".serve.max-body-bytes must be positive");
            }
            if (s.maxConcurrentPredictions() > s.threads() - RESERVED_THREADS) {
                v.problem(ConfigLoader.ROOT + ".serve.max-concurrent-predictions (" + s.maxConcurrentPredictions()
                        + ") must leave " + RESERVED_THREADS + " of the " + s.threads()
                        + " serve.threads for Jetty itself, /health and /model");
            }
            if (s.shutdownGraceMs() < s.predictTimeoutMs()) {
                v.problem(ConfigLoader.ROOT + ".serve.shutdown-grace-ms (" + s.shutdownGraceMs() + ") must cover "
                        + ConfigLoader.ROOT + ".serve.predict-timeout-ms (" + s.predictTimeoutMs() + ")");
            }
            return s;
        }
    }

    public enum OutputFormat { AUTO, PARQUET, CSV }

    /**
     * Batch scoring on Apache Spark.
     *
     * @param batchSize texts per forward pass on an executor
     * @param threads   ND4J threads per forward pass (0 = the executor's cores)
     */
    /**
     * Word attributions by integrated gradients: a setting of the machine, never read from a run folder.
     *
     * @param steps     interpolation points (Gauss-Legendre nodes on [0, 1])
     * @param batchSize interpolation points per forward+backward pass
     * @param maxGap    relative completeness gap above which the steps are doubled once; 0: never
     * @param passWordPieces most word pieces in one pass (interpolation points times the text's word pieces; at
     *                  least one point), which bounds a pass's memory
     */
    public record ExplainSettings(int steps, int batchSize, double maxGap, int passWordPieces)
            implements java.io.Serializable {
        static ExplainSettings read(ConfigValues v) {
            return new ExplainSettings(v.intIn("explain.steps", 1, 1024), v.intIn("explain.batch-size", 1, 1024),
                    v.doubleIn("explain.max-gap", 0, 10), v.intIn("explain.pass-word-pieces", 1, 1 << 20));
        }
    }

    /**
     * @param explainTopK    words with the largest attributions added to each row (0: no explanations)
     * @param explainMaxRows most rows a job explains (0: no limit)
     */
    public record ScoreSettings(int batchSize, OutputFormat format, boolean overwrite, int threads, int explainTopK,
                                int explainMaxRows) {
        static ScoreSettings read(ConfigValues v) {
            return new ScoreSettings(v.intIn("score.batch-size", 1, 4096), v.choice("score.format", OutputFormat.class),
                    v.bool("score.overwrite"), v.intIn("score.threads", 0, 1024),
                    v.intIn("score.explain.top-k", 0, 1000), v.intIn("score.explain.max-rows", 0, Integer.MAX_VALUE));
        }

        /** Scoring without explanations. */
        public static ScoreSettings of(int batchSize, OutputFormat format, boolean overwrite, int threads) {
            return new ScoreSettings(batchSize, format, overwrite, threads, 0, 0);
        }
    }

    /** The resolved configuration as HOCON, for logs and run folders. */
    public String render() {
        return ConfigFactory.empty().withValue(ConfigLoader.ROOT, config.root()).root()
                .render(ConfigRenderOptions.defaults().setOriginComments(false).setComments(false).setJson(false)
                        .setFormatted(true));
    }
}
