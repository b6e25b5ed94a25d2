package dev.bertclf.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Builds {@link Settings} from {@code reference.conf} (every default), an optional experiment file (overrides) and
 * {@code -Dbertclf.*} system properties (last word), and validates it once: unknown keys, wrong types, bad ranges
 * and missing files are all reported together in one {@link ConfigException}.
 */
public final class ConfigLoader {
    public static final String ROOT = "bertclf";

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
        return load(experimentFile, properties, true, CpuInfo.Cpu.thisOne());
    }

    /**
     * As {@link #load(Path)}, for a Spark driver whose forward passes run on executors elsewhere ({@code Score} on a
     * cluster): what the settings ask of a CPU ({@code inference.precision = bf16}) is not checked against this
     * machine's, as each executor checks its own when it loads the model.
     */
    public static Settings loadForRemoteExecutors(Path experimentFile) {
        return load(experimentFile, System.getProperties(), true, null);
    }

    /**
     * The settings a run folder saved ({@code config.conf}), as the run used them: defaults added since fill new
     * keys; files the run read (data, descriptor) need not exist any more.
     */
    public static Settings loadSaved(Path savedConfig) {
        return load(savedConfig, new Properties(), false, null);
    }

    /** @param cpu the CPU the settings are for, or null where it is not known here (see {@link ConfigValues}) */
    static Settings load(Path experimentFile, Properties properties, boolean checkFiles, CpuInfo.Cpu cpu) {
        List<String> problems = new ArrayList<>();
        Config reference = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf")
                .getConfig(ROOT);
        Config experiment = experimentFile == null ? ConfigFactory.empty() : parse(experimentFile, "experiment file");
        Config overrides = overrides(properties);
        unknownKeys(reference, experiment, "in " + experimentFile, problems);
        unknownKeys(reference, overrides, "from -D" + ROOT + ".*", problems);
        Config c;
        try {
            c = overrides.withFallback(experiment).withFallback(reference).resolve();
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(List.of(e.getMessage()));
        }
        Settings s = map(new ConfigValues(c, problems, checkFiles, cpu));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return s;
    }

    /**
     * The {@code engine} section alone, from {@code reference.conf} and the {@code bertclf.engine.*} properties: what
     * a JVM is set up with before any command reads its settings ({@code model.JvmSetup}).
     */
    public static Settings.EngineSettings engine(Properties properties) {
        Config reference = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf")
                .getConfig(ROOT);
        Config overrides = overrides(properties);
        Config c = (overrides.hasPath("engine") ? overrides.getConfig("engine").atKey("engine")
                : ConfigFactory.empty()).withFallback(reference).resolve();
        List<String> problems = new ArrayList<>();
        Settings.EngineSettings e = Settings.EngineSettings.read(new ConfigValues(c, problems, false, null));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return e;
    }

    /** A config file's {@code bertclf} tree (or the whole file when it has none). */
    private static Config parse(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(List.of(what + " not found: " + file.toAbsolutePath()));
        }
        try {
            Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            return c.hasPath(ROOT) ? c.getConfig(ROOT) : c;
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(List.of("cannot parse " + what + " " + file + ": " + e.getMessage()));
        }
    }

    private static Config overrides(Properties properties) {
        Config overrides = ConfigFactory.parseProperties(onlyOurs(properties));
        return overrides.hasPath(ROOT) ? overrides.getConfig(ROOT) : ConfigFactory.empty();
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

    /** Settings whose value may be an object keyed by the user's own names (labels), which no reference lists. */
    private static final List<String> KEYED_BY_LABEL = List.of("train.class-weights");

    private static void unknownKeys(Config reference, Config given, String where, List<String> problems) {
        for (Map.Entry<String, ConfigValue> e : given.entrySet()) {
            boolean byLabel = KEYED_BY_LABEL.stream().anyMatch(k -> e.getKey().startsWith(k + "."));
            if (!byLabel && !reference.hasPathOrNull(e.getKey())) {
                problems.add("unknown setting " + ROOT + "." + e.getKey() + " (" + where + ")");
            }
        }
    }

    /** Each section through its record's factory, then the checks that span sections. */
    private static Settings map(ConfigValues v) {
        var model = Settings.ModelSettings.read(v);
        var data = Settings.DataSettings.read(v);
        var features = Settings.FeatureSettings.read(v);
        var train = Settings.TrainSettings.read(v);
        var inference = Settings.InferenceSettings.read(v);
        var engine = Settings.EngineSettings.read(v);
        if (engine.kernels() == Settings.Kernels.REFERENCE && (inference.precision() != Settings.Precision.FP32
                || train.precision() == Settings.Precision.BF16)) {
            v.problem(ROOT + ".engine.kernels = \"reference\" runs libnd4j's kernels alone, and bf16 and int8 products"
                    + " run on oneDNN: use \"fp32\" precision with it");
        }
        var serve = Settings.ServeSettings.read(v);
        var score = Settings.ScoreSettings.read(v);
        var explain = Settings.ExplainSettings.read(v);
        if (sameFile(data.train(), data.test())) {
            v.problem(ROOT + ".data.train and " + ROOT + ".data.test are the same file ("
                    + data.test().toAbsolutePath() + "): the test set must be held out from training");
        }
        if (model.task() == Settings.Task.SINGLE_LABEL && data.labelSeparator() != null
                && (!data.labelSeparator().isEmpty() || data.indicatorColumns())) {
            v.problem(ROOT + ".data.label-separator, label-columns and label-prefix give several labels per text: they"
                    + " need " + ROOT + ".model.task = \"multi-label\"");
        }
        if (v.checkFiles()) {
            checkMaxPositions(model, features, v.problems());
        }
        return new Settings(v.string("experiment"), model, data, features, train, inference, engine, serve, score,
                explain, v.c());
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

    /**
     * None of {@code features.max-length}, {@code features.inference-max-length} and (reading in windows)
     * {@code features.window} may exceed the model's {@code max-positions} (its position embeddings).
     */
    private static void checkMaxPositions(Settings.ModelSettings model, Settings.FeatureSettings features,
                                          List<String> problems) {
        if (model.base() == null || model.zooDir() == null || features == null
                || !Files.isRegularFile(model.descriptorFile())) {
            return;
        }
        try {
            Config d = ConfigFactory.parseFile(model.descriptorFile().toFile());
            List<Map.Entry<String, Integer>> lengths = new ArrayList<>(List.of(
                    Map.entry("max-length", features.maxLength()),
                    Map.entry("inference-max-length", features.inferenceMaxLength())));
            if (features.longText() == Settings.LongText.WINDOWS) {
                lengths.add(Map.entry("window", features.windows().length()));
            }
            for (var length : lengths) {
                if (d.hasPath("max-positions") && length.getValue() > d.getInt("max-positions")) {
                    problems.add(ROOT + ".features." + length.getKey() + " = " + length.getValue()
                            + " exceeds max-positions = " + d.getInt("max-positions") + " of the model "
                            + model.descriptorFile());
                }
            }
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ROOT + ".model.base: cannot read " + model.descriptorFile() + ": " + e.getMessage());
        }
    }

    /**
     * Settings a resumed run may change: where things are, how it reports and how the result is tested, never
     * what training computes.
     */
    static final List<String> SAFE_ON_RESUME = List.of("train.resume", "train.log-every", "train.checkpoint-every",
            "train.eval-batch-size", "train.runs-dir", "model.cache-dir", "model.zoo-dir", "model.repository",
            "model.local-repository", "data.train", "data.test", "data.download", "features.inference-max-length",
            "features.long-text", "features.window", "features.stride", "features.window-pooling",
            "features.max-windows", "inference", "engine", "serve", "score", "explain");

    /**
     * The settings of a run being resumed: its saved config with the {@code -D} overrides on top. Overrides that
     * would change the model, the features, the data selection or the optimizer are refused, naming the keys: a
     * resumed run must compute what the interrupted one would have.
     */
    public static Settings loadForResume(Path savedConfig, Properties properties) {
        Config saved = parse(savedConfig, "the run's config");
        Config overrides = overrides(properties);
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
}
