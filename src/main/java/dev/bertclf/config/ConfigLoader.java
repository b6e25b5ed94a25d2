package dev.bertclf.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * Builds {@link Settings} from {@code reference.conf} (every default), an optional experiment file (overrides) and
 * {@code -Dbertclf.*} system properties (last word), and validates it once: unknown keys, wrong types, bad ranges
 * and missing files are all reported together in one {@link ConfigException}.
 */
public final class ConfigLoader {
    public static final String ROOT = "bertclf";
    private static final Set<String> OPTIMIZERS = Set.of("adam", "adamw");
    private static final Set<String> SCHEDULES = Set.of("linear", "constant");
    private static final Set<String> METRICS = Set.of("accuracy", "f1", "loss");

    private ConfigLoader() {
    }

    /** Loads with the JVM's system properties as overrides. */
    public static Settings load(Path experimentFile) {
        return load(experimentFile, System.getProperties());
    }

    /**
     * @param experimentFile experiment overrides, or null for the defaults alone
     * @param properties     system properties; those under {@code bertclf.} override everything
     */
    public static Settings load(Path experimentFile, Properties properties) {
        List<String> problems = new ArrayList<>();
        Config reference = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf")
                .getConfig(ROOT);
        Config experiment = ConfigFactory.empty();
        if (experimentFile != null) {
            if (!Files.isRegularFile(experimentFile)) {
                throw new ConfigException(List.of("experiment file not found: " + experimentFile.toAbsolutePath()));
            }
            try {
                experiment = ConfigFactory.parseFile(experimentFile.toFile(),
                        ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (com.typesafe.config.ConfigException e) {
                throw new ConfigException(List.of("cannot parse " + experimentFile + ": " + e.getMessage()));
            }
            experiment = experiment.hasPath(ROOT) ? experiment.getConfig(ROOT) : experiment;
        }
        Config overrides = ConfigFactory.parseProperties(onlyOurs(properties));
        overrides = overrides.hasPath(ROOT) ? overrides.getConfig(ROOT) : ConfigFactory.empty();
        unknownKeys(reference, experiment, "in " + experimentFile, problems);
        unknownKeys(reference, overrides, "from -D" + ROOT + ".*", problems);
        Config c;
        try {
            c = overrides.withFallback(experiment).withFallback(reference).resolve();
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(List.of(e.getMessage()));
        }
        Settings s = map(c, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return s;
    }

    private static Properties onlyOurs(Properties all) {
        Properties p = new Properties();
        for (String k : all.stringPropertyNames()) {
            if (k.startsWith(ROOT + ".")) {
                p.setProperty(k, all.getProperty(k));
            }
        }
        return p;
    }

    private static void unknownKeys(Config reference, Config given, String where, List<String> problems) {
        for (Map.Entry<String, ConfigValue> e : given.entrySet()) {
            if (!reference.hasPathOrNull(e.getKey())) {
                problems.add("unknown setting " + ROOT + "." + e.getKey() + " (" + where + ")");
            }
        }
    }

    private static Settings map(Config c, List<String> problems) {
        Values v = new Values(c, problems);
        var model = new Settings.ModelSettings(v.string("model.base"), v.path("model.zoo-dir"),
                v.path("model.cache-dir"), v.intIn("model.encoder-layers", 1, 48),
                v.intIn("model.frozen-layers", 0, 48), v.doubleIn("model.dropout", 0, 0.9));
        if (model.frozenLayers() > model.encoderLayers()) {
            problems.add(ROOT + ".model.frozen-layers (" + model.frozenLayers() + ") must not exceed "
                    + ROOT + ".model.encoder-layers (" + model.encoderLayers() + ")");
        }
        if (model.base() != null && model.zooDir() != null && !Files.isRegularFile(model.descriptorFile())) {
            problems.add(ROOT + ".model.base: no model descriptor " + model.descriptorFile().toAbsolutePath());
        }
        var data = new Settings.DataSettings(v.path("data.train"), v.path("data.test"), v.string("data.text-column"),
                v.string("data.label-column"), v.intIn("data.train-limit", 0, Integer.MAX_VALUE),
                v.intIn("data.test-limit", 0, Integer.MAX_VALUE), v.doubleIn("data.validation", 0, 1e9),
                v.oneOf("data.bad-rows", Set.of("fail", "skip"),
                        s -> Settings.BadRowPolicy.valueOf(s.toUpperCase(Locale.ROOT))),
                v.longIn("data.seed"), v.bool("data.download.enabled"), v.string("data.download.url"),
                v.longIn("data.download.bytes"), v.string("data.download.sha256"), v.path("data.download.dir"));
        if (data.downloadSha256() != null && !data.downloadSha256().matches("|[0-9a-f]{64}")) {
            problems.add(ROOT + ".data.download.sha256 must be 64 lower-case hex digits or empty: "
                    + data.downloadSha256());
        }
        if (data.validation() > 1 && data.validation() != Math.rint(data.validation())) {
            problems.add(ROOT + ".data.validation must be a fraction below 1 or a whole count: " + data.validation());
        }
        if (!data.downloadEnabled()) {
            v.requireFile("data.train", data.train());
            v.requireFile("data.test", data.test());
        }
        if (sameFile(data.train(), data.test())) {
            problems.add(ROOT + ".data.train and " + ROOT + ".data.test are the same file ("
                    + data.test().toAbsolutePath() + "): the test set must be held out from training");
        }
        var features = features(v);
        checkMaxPositions(model, features, problems);
        String resume = v.string("train.resume");
        var train = new Settings.TrainSettings(v.intIn("train.epochs", 1, 1000), v.intIn("train.batch-size", 1, 4096),
                v.oneOf("train.optimizer", OPTIMIZERS, Function.identity()),
                v.doubleIn("train.learning-rate", 1e-12, 1), v.doubleIn("train.weight-decay", 0, 1),
                v.oneOf("train.schedule", SCHEDULES, Function.identity()), v.doubleIn("train.warmup", 0, 1),
                v.longIn("train.seed"), v.intIn("train.checkpoint-every", 0, Integer.MAX_VALUE),
                resume == null || resume.isBlank() ? null : Path.of(resume),
                v.oneOf("train.metric", METRICS, Function.identity()), v.intIn("train.patience", 0, 1000),
                v.bool("train.keep-best"), v.intIn("train.eval-batch-size", 1, 4096), v.path("train.runs-dir"),
                v.intIn("train.log-every", 1, Integer.MAX_VALUE));
        if (train.resume() != null && !Files.isDirectory(train.resume())) {
            problems.add(ROOT + ".train.resume: no run folder " + train.resume().toAbsolutePath());
        }
        String run = v.string("serve.run");
        var serve = new Settings.ServeSettings(v.string("serve.host"), v.intIn("serve.port", 0, 65535),
                run == null || run.isBlank() ? null : Path.of(run), v.intIn("serve.threads", 10, 1000),
                v.intIn("serve.max-concurrent-predictions", 1, 1000), v.intIn("serve.idle-timeout-ms", 100,
                Integer.MAX_VALUE), v.intIn("serve.min-request-data-rate", 0, Integer.MAX_VALUE),
                v.intIn("serve.predict-timeout-ms", 1, Integer.MAX_VALUE), v.longIn("serve.max-body-bytes"), v.intIn("serve.max-texts", 1, 100_000),
                v.intIn("serve.max-text-chars", 1, Integer.MAX_VALUE), v.bool("serve.batching.enabled"),
                v.intIn("serve.batching.max-batch-size", 1, 1024), v.intIn("serve.batching.max-wait-ms", 0, 10_000),
                v.intIn("serve.batching.queue-capacity", 1, 1_000_000), v.longIn("serve.shutdown-grace-ms"));
        if (serve.maxBodyBytes() < 1) {
            problems.add(ROOT + ".serve.max-body-bytes must be positive");
        }
        if (serve.maxConcurrentPredictions() > serve.threads() - Settings.ServeSettings.RESERVED_THREADS) {
            problems.add(ROOT + ".serve.max-concurrent-predictions (" + serve.maxConcurrentPredictions()
                    + ") must leave " + Settings.ServeSettings.RESERVED_THREADS + " of the " + serve.threads()
                    + " serve.threads for Jetty itself, /health and /model");
        }
        if (serve.shutdownGraceMs() < serve.predictTimeoutMs()) {
            problems.add(ROOT + ".serve.shutdown-grace-ms (" + serve.shutdownGraceMs() + ") must cover "
                    + ROOT + ".serve.predict-timeout-ms (" + serve.predictTimeoutMs() + ")");
        }
        return new Settings(v.string("experiment"), model, data, features, train, serve, c);
    }

    private static boolean sameFile(Path a, Path b) {
        if (a == null || b == null) {
            return false;
        }
        try {
            return Files.exists(a) && Files.exists(b) ? Files.isSameFile(a, b)
                    : a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** {@code features.max-length} may not exceed the model's {@code max-positions} (its position embeddings). */
    private static void checkMaxPositions(Settings.ModelSettings model, Settings.FeatureSettings features,
                                          List<String> problems) {
        if (model.base() == null || model.zooDir() == null || features == null
                || !Files.isRegularFile(model.descriptorFile())) {
            return;
        }
        try {
            Config d = ConfigFactory.parseFile(model.descriptorFile().toFile());
            if (d.hasPath("max-positions") && features.maxLength() > d.getInt("max-positions")) {
                problems.add(ROOT + ".features.max-length = " + features.maxLength() + " exceeds max-positions = "
                        + d.getInt("max-positions") + " of the model " + model.descriptorFile());
            }
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ROOT + ".model.base: cannot read " + model.descriptorFile() + ": " + e.getMessage());
        }
    }

    /** Settings a resumed run may change: where things are and how it reports, never what it computes. */
    static final List<String> SAFE_ON_RESUME = List.of("train.resume", "train.log-every", "train.checkpoint-every",
            "train.eval-batch-size", "train.runs-dir", "model.cache-dir", "model.zoo-dir", "data.train", "data.test",
            "data.download", "serve");

    /**
     * The settings of a run being resumed: its saved config with the {@code -D} overrides on top. Overrides that
     * would change the model, the features, the data selection or the optimizer are refused, naming the keys: a
     * resumed run must compute what the interrupted one would have.
     */
    public static Settings loadForResume(Path savedConfig, Properties properties) {
        Config saved;
        try {
            Config c = ConfigFactory.parseFile(savedConfig.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            saved = c.hasPath(ROOT) ? c.getConfig(ROOT) : c;
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(List.of("cannot read the run's config " + savedConfig + ": " + e.getMessage()));
        }
        Config overrides = ConfigFactory.parseProperties(onlyOurs(properties));
        overrides = overrides.hasPath(ROOT) ? overrides.getConfig(ROOT) : ConfigFactory.empty();
        List<String> refused = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : overrides.entrySet()) {
            String key = e.getKey();
            boolean safe = SAFE_ON_RESUME.stream().anyMatch(p -> key.equals(p) || key.startsWith(p + "."));
            boolean same = saved.hasPath(key) && saved.getValue(key).unwrapped().toString()
                    .equals(e.getValue().unwrapped().toString());
            if (!safe && !same) {
                refused.add(ROOT + "." + key + " = " + e.getValue().unwrapped()
                        + (saved.hasPath(key) ? " (the run has " + saved.getValue(key).unwrapped() + ")" : ""));
            }
        }
        if (!refused.isEmpty()) {
            List<String> problems = new ArrayList<>();
            problems.add("a resumed run keeps the model, features, data and optimizer it started with; these "
                    + "overrides would change them: " + String.join(", ", refused));
            throw new ConfigException(problems);
        }
        return load(savedConfig, properties);
    }

    /** The feature settings of a resolved {@code bertclf} tree (as saved in a run folder). */
    public static Settings.FeatureSettings features(Config c) {
        List<String> problems = new ArrayList<>();
        Settings.FeatureSettings f = features(new Values(c, problems));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return f;
    }

    private static Settings.FeatureSettings features(Values v) {
        return new Settings.FeatureSettings(v.intIn("features.max-length", 3, 512),
                v.oneOf("features.truncation", Set.of("head", "tail", "head+tail"), Function.identity()),
                v.doubleIn("features.head-fraction", 0, 1),
                "fixed".equals(v.oneOf("features.length", Set.of("fixed", "batch"), Function.identity())),
                v.bool("features.strip-html-breaks"));
    }

    /** Reads typed values, recording a problem (and returning a neutral value) instead of throwing. */
    private record Values(Config c, List<String> problems) {
        String string(String key) {
            try {
                return c.getString(key);
            } catch (com.typesafe.config.ConfigException e) {
                problems.add(ROOT + "." + key + ": " + e.getMessage());
                return null;
            }
        }

        Path path(String key) {
            String s = string(key);
            return s == null ? null : Path.of(s);
        }

        boolean bool(String key) {
            try {
                return c.getBoolean(key);
            } catch (com.typesafe.config.ConfigException e) {
                problems.add(ROOT + "." + key + " must be true or false");
                return false;
            }
        }

        long longIn(String key) {
            try {
                return c.getLong(key);
            } catch (com.typesafe.config.ConfigException e) {
                problems.add(ROOT + "." + key + " must be a whole number");
                return 0;
            }
        }

        int intIn(String key, int min, int max) {
            try {
                int x = c.getInt(key);
                if (x < min || x > max) {
                    problems.add(ROOT + "." + key + " = " + x + " is out of range [" + min + ", " + max + "]");
                }
                return x;
            } catch (com.typesafe.config.ConfigException e) {
                problems.add(ROOT + "." + key + " must be a whole number");
                return min;
            }
        }

        double doubleIn(String key, double min, double max) {
            try {
                double x = c.getDouble(key);
                if (!(x >= min && x <= max)) {
                    problems.add(ROOT + "." + key + " = " + x + " is out of range [" + min + ", " + max + "]");
                }
                return x;
            } catch (com.typesafe.config.ConfigException e) {
                problems.add(ROOT + "." + key + " must be a number");
                return min;
            }
        }

        <T> T oneOf(String key, Set<String> allowed, Function<String, T> map) {
            String s = string(key);
            if (s == null) {
                return null;
            }
            if (!allowed.contains(s)) {
                problems.add(ROOT + "." + key + " = \"" + s + "\" must be one of " + new java.util.TreeSet<>(allowed));
                return null;
            }
            return map.apply(s);
        }

        void requireFile(String key, Path p) {
            if (p != null && !Files.isRegularFile(p)) {
                problems.add(ROOT + "." + key + ": file not found " + p.toAbsolutePath());
            }
        }
    }
}
