package dev.bertclf.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path tmp;

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void referenceDefaultsAreComplete() {
        Settings s = ConfigLoader.load(null, new Properties());
        assertEquals("default", s.experiment());
        assertEquals(128, s.features().maxLength());
        assertEquals("127.0.0.1", s.serve().host());
        assertEquals(4445, s.serve().port());
        assertNull(s.train().resume());
        assertTrue(s.render().contains("max-length"));
    }

    @Test
    void renderedConfigLoadsBackToTheSameSettings() throws Exception {
        Settings s = ConfigLoader.load(null, props("bertclf.train.epochs", "7", "bertclf.experiment", "x"));
        Path saved = Files.writeString(tmp.resolve("config.conf"), s.render());
        Settings back = ConfigLoader.load(saved, new Properties());
        assertEquals(s.config(), back.config());
        assertEquals(7, back.train().epochs());
    }

    @Test
    void experimentOverridesReferenceAndSystemPropertiesOverrideBoth() throws Exception {
        Path conf = Files.writeString(tmp.resolve("exp.conf"),
                "bertclf { experiment = exp, train { epochs = 3, batch-size = 8 } }");
        Settings s = ConfigLoader.load(conf, props("bertclf.train.epochs", "5"));
        assertEquals("exp", s.experiment());
        assertEquals(5, s.train().epochs(), "-D wins");
        assertEquals(8, s.train().batchSize(), "experiment file wins over reference");
        assertEquals(0.1, s.model().dropout(), "reference default");
    }

    @Test
    void everyProblemIsListedInOneError() throws Exception {
        Path conf = Files.writeString(tmp.resolve("bad.conf"), """
                bertclf {
                  train { epochs = 0, optimizer = sgd, learning-rate = fast }
                  features { truncation = middle }
                  modle { base = x }
                }
                """);
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(conf, props("bertclf.serve.prot", "1")));
        String m = e.getMessage();
        assertTrue(m.contains("bertclf.modle.base"), m);
        assertTrue(m.contains("bertclf.serve.prot"), m);
        assertTrue(m.contains("bertclf.train.epochs = 0 is out of range"), m);
        assertTrue(m.contains("bertclf.train.optimizer = \"sgd\""), m);
        assertTrue(m.contains("bertclf.train.learning-rate must be a number"), m);
        assertTrue(m.contains("bertclf.features.truncation = \"middle\""), m);
        assertEquals(6, e.problems().size(), m);
    }

    @Test
    void missingDataFilesAreReportedWhenDownloadIsOff() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.data.download.enabled", "false", "bertclf.data.train", tmp + "/none.csv")));
        assertTrue(e.getMessage().contains("bertclf.data.train: file not found"), e.getMessage());
    }

    @Test
    void classWeightsAreNoneBalancedOrPositiveWeightsByLabel() throws Exception {
        assertEquals(Settings.ClassWeights.Mode.NONE, ConfigLoader.load(null, props()).train().classWeights().mode());
        assertEquals(Settings.ClassWeights.Mode.BALANCED, ConfigLoader.load(null,
                props("bertclf.train.class-weights", "balanced")).train().classWeights().mode());
        Settings.ClassWeights given = ConfigLoader.load(null, props("bertclf.train.class-weights.love", "3",
                "bertclf.train.class-weights.surprise", "2.5")).train().classWeights();
        assertEquals(Settings.ClassWeights.Mode.GIVEN, given.mode());
        assertEquals(java.util.Map.of("love", 3.0, "surprise", 2.5), given.given());
        java.nio.file.Path conf = tmp.resolve("weights.conf");
        java.nio.file.Files.writeString(conf, "bertclf.train.class-weights { love = 4, joy = 0.5 }\n");
        assertEquals(java.util.Map.of("love", 4.0, "joy", 0.5),
                ConfigLoader.load(conf, new Properties()).train().classWeights().given());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.train.class-weights", "heavy")));
        assertTrue(e.getMessage().contains("bertclf.train.class-weights must be \"none\", \"balanced\" or"),
                e.getMessage());
        ConfigException negative = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.train.class-weights.love", "-1", "bertclf.train.class-weights.joy", "x")));
        assertTrue(negative.getMessage().contains("class-weights.love = -1 must be a positive number"),
                negative.getMessage());
        assertTrue(negative.getMessage().contains("class-weights.joy = x must be a positive number"),
                negative.getMessage());
    }

    @Test
    void theTaskIsSingleLabelUnlessSetAndTheThresholdIsANumberOrTuned() {
        Settings d = ConfigLoader.load(null, props());
        assertEquals(Settings.Task.SINGLE_LABEL, d.model().task());
        assertEquals(new Settings.Threshold(false, 0.5), d.model().threshold());
        Settings multi = ConfigLoader.load(null, props("bertclf.model.task", "multi-label",
                "bertclf.model.threshold", "tuned", "bertclf.data.label-separator", ";"));
        assertEquals(Settings.Task.MULTI_LABEL, multi.model().task());
        assertTrue(multi.model().threshold().tuned());
        assertEquals(0.3, ConfigLoader.load(null, props("bertclf.model.threshold", "0.3")).model().threshold()
                .value());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.model.task", "multilabel", "bertclf.model.threshold", "1.5")));
        assertTrue(e.getMessage().contains("bertclf.model.task = \"multilabel\" must be one of [multi-label, "
                + "single-label]"), e.getMessage());
        assertTrue(e.getMessage().contains("bertclf.model.threshold = 1.5 must be \"tuned\" or a number between 0 "
                + "and 1"), e.getMessage());
    }

    @Test
    void severalLabelsPerTextNeedTheMultiLabelTaskAndOneFormOfLabelColumns() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.data.label-separator", ";")));
        assertTrue(e.getMessage().contains("need bertclf.model.task = \"multi-label\""), e.getMessage());
        ConfigException both = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.model.task", "multi-label", "bertclf.data.label-columns", "toxic,insult",
                        "bertclf.data.label-prefix", "is_")));
        assertTrue(both.getMessage().contains("label-columns and bertclf.data.label-prefix both name"),
                both.getMessage());
        assertEquals(List.of("toxic", "insult"), ConfigLoader.load(null, props("bertclf.model.task", "multi-label",
                "bertclf.data.label-columns", "toxic,insult")).data().labelColumns());
    }

    @Test
    void theGoEmotionsExperimentsAreValidMultiLabelRecipes() {
        String sample = "src/test/resources/goemotions/train-sample.csv";
        for (String f : new String[]{"conf/goemotions.conf", "conf/goemotions-ekman.conf"}) {
            Settings s = ConfigLoader.load(Path.of(f), props("bertclf.data.train", sample,
                    "bertclf.data.test", "src/test/resources/imdb/test-sample.csv"));
            assertEquals(Settings.Task.MULTI_LABEL, s.model().task(), f);
            assertTrue(s.model().threshold().tuned(), f);
            assertEquals(";", s.data().labelSeparator(), f);
        }
        ConfigException offline = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(Path.of("conf/goemotions.conf"), props()));
        assertTrue(offline.getMessage().contains("bertclf.data.train: file not found"), offline.getMessage());
    }

    @Test
    void explanationSettingsDefaultToThirtyTwoStepsAndOutOfRangeOnesAreRefusedTogether() {
        Settings s = ConfigLoader.load(null, props());
        assertEquals(new Settings.ExplainSettings(32, 16, 0.05, 512), s.explain());
        assertEquals(new Settings.ServeSettings.Explaining(4, 2, 30000, 128), s.serve().explain());
        assertEquals(0, s.score().explainTopK(), "Score explains nothing unless asked");
        assertEquals(1000, s.score().explainMaxRows());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.explain.steps", "0", "bertclf.explain.max-gap", "-1",
                        "bertclf.serve.explain.max-texts", "0", "bertclf.score.explain.top-k", "-1",
                        "bertclf.score.explain.max-rows", "many")));
        assertEquals(5, e.problems().size(), e.getMessage());
        assertTrue(e.getMessage().contains("explain.steps") && e.getMessage().contains("explain.max-gap")
                && e.getMessage().contains("serve.explain.max-texts") && e.getMessage().contains("score.explain.top-k")
                && e.getMessage().contains("score.explain.max-rows must be a whole number"), e.getMessage());
    }

    @Test
    void inconsistentLayerSettingsAreRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.model.encoder-layers", "4", "bertclf.model.frozen-layers", "6")));
        assertTrue(e.getMessage().contains("frozen-layers (6) must not exceed"), e.getMessage());
    }

    @Test
    void missingExperimentFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(tmp.resolve("nope.conf"), new Properties()));
        assertTrue(e.getMessage().contains("nope.conf"));
    }

    @Test
    void shippedExperimentsAreValid() {
        for (String f : new String[]{"conf/default.conf", "conf/imdb-full.conf", "conf/imdb-multilingual.conf"}) {
            Settings s = ConfigLoader.load(Path.of(f), new Properties());
            assertTrue(s.experiment().length() > 0, f);
        }
        Settings multilingual = ConfigLoader.load(Path.of("conf/imdb-multilingual.conf"), new Properties());
        Settings defaults = ConfigLoader.load(Path.of("conf/default.conf"), new Properties());
        assertEquals("bert-base-multilingual-cased", multilingual.model().base());
        assertEquals(defaults.train(), multilingual.train(), "trained as the default experiment is");
        assertEquals(defaults.data(), multilingual.data());
    }

    @Test
    void aMaxLengthBeyondTheModelsPositionsIsRefusedAtValidation() throws Exception {
        String descriptor = Files.readString(Path.of("model-zoo/bert-base-uncased.conf"))
                .replace("max-positions = 512", "max-positions = 64");
        Files.writeString(tmp.resolve("small-bert.conf"), descriptor);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.model.zoo-dir", tmp.toString(), "bertclf.model.base", "small-bert",
                "bertclf.features.max-length", "128")));
        assertTrue(e.getMessage().contains("features.max-length = 128 exceeds max-positions = 64"), e.getMessage());
        assertEquals(64, ConfigLoader.load(null, props("bertclf.model.zoo-dir", tmp.toString(),
                "bertclf.model.base", "small-bert", "bertclf.features.max-length", "64")).features().maxLength());
        ConfigException inference = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.model.zoo-dir", tmp.toString(), "bertclf.model.base", "small-bert",
                "bertclf.features.max-length", "32", "bertclf.features.inference-max-length", "96")));
        assertTrue(inference.getMessage().contains("features.inference-max-length = 96 exceeds max-positions = 64"),
                inference.getMessage());
        assertEquals(1, inference.problems().size(), inference.getMessage());
        ConfigException window = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.model.zoo-dir", tmp.toString(), "bertclf.model.base", "small-bert",
                "bertclf.features.max-length", "32", "bertclf.features.long-text", "windows")));
        assertTrue(window.getMessage().contains("features.window = 128 exceeds max-positions = 64"),
                window.getMessage());
        assertEquals(1, window.problems().size(), window.getMessage());
    }

    @Test
    void longTextsAreCutUnlessReadInWindowsWhoseSettingsAreCheckedTogether() {
        Settings.FeatureSettings cut = ConfigLoader.load(null, new Properties()).features();
        assertEquals(Settings.LongText.TRUNCATE, cut.longText());
        assertEquals(new Settings.WindowSettings(128, 64, Settings.WindowPooling.MEAN, 16), cut.windows());
        assertEquals(126 + 15 * 64, cut.windows().coverage());
        Settings.FeatureSettings windows = ConfigLoader.load(null, props("bertclf.features.long-text", "windows",
                "bertclf.features.window", "256", "bertclf.features.stride", "128", "bertclf.features.window-pooling",
                "max", "bertclf.features.max-windows", "4")).features().atInference();
        assertEquals(Settings.LongText.WINDOWS, windows.longText(), "kept at the inference length");
        assertEquals(new Settings.WindowSettings(256, 128, Settings.WindowPooling.MAX, 4), windows.windows());
        assertEquals(256, windows.passLength());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.features.long-text", "pages", "bertclf.features.window", "64", "bertclf.features.stride",
                "63", "bertclf.features.window-pooling", "median", "bertclf.features.max-windows", "0")));
        assertTrue(e.getMessage().contains("features.long-text = \"pages\" must be one of [truncate, windows]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("features.stride = 63 would skip word pieces: at most features.window"
                + " - 2 = 62"), e.getMessage());
        assertTrue(e.getMessage().contains("features.window-pooling = \"median\""), e.getMessage());
        assertTrue(e.getMessage().contains("features.max-windows"), e.getMessage());
        assertEquals(4, e.problems().size(), e.getMessage());
    }

    @Test
    void theInferenceLengthIsTheTrainingLengthUnlessSetAndTheInferenceSettingsUseIt() {
        Settings.FeatureSettings unset = ConfigLoader.load(null, props("bertclf.features.max-length", "96"))
                .features();
        assertEquals(96, unset.inferenceMaxLength(), "0 means max-length");
        assertEquals(unset, unset.atInference());

        Settings.FeatureSettings set = ConfigLoader.load(null, props("bertclf.features.max-length", "64",
                "bertclf.features.inference-max-length", "256", "bertclf.features.truncation", "tail")).features();
        assertEquals(64, set.maxLength());
        Settings.FeatureSettings inference = set.atInference();
        assertEquals(256, inference.maxLength());
        assertEquals(Truncation.TAIL, inference.truncation(), "everything else as in training");
        assertEquals(set.padding(), inference.padding());
        assertEquals(set.headFraction(), inference.headFraction());

        ConfigException tooShort = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.features.inference-max-length", "2")));
        assertTrue(tooShort.getMessage().contains("features.inference-max-length = 2 is too short"),
                tooShort.getMessage());
        ConfigException tooLong = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.features.inference-max-length", "513")));
        assertTrue(tooLong.getMessage().contains("features.inference-max-length = 513 is out of range"),
                tooLong.getMessage());
    }

    @Test
    void anUnknownBaseModelIsRefusedListingTheAvailableDescriptors() throws Exception {
        Files.writeString(tmp.resolve("bert-a.conf"), "name = a");
        Files.writeString(tmp.resolve("bert-b.conf"), "name = b");
        Files.writeString(tmp.resolve("notes.txt"), "not a descriptor");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.model.zoo-dir", tmp.toString(), "bertclf.model.base", "bert-c")));
        assertTrue(e.getMessage().contains("no model descriptor " + tmp.resolve("bert-c.conf").toAbsolutePath()
                + "; available in " + tmp + ": [bert-a, bert-b]"), e.getMessage());
    }

    @Test
    void theSameFileForTrainingAndTestIsRefused() throws Exception {
        Path csv = Files.writeString(tmp.resolve("all.csv"), "review,sentiment\nfine,positive\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.data.train", csv.toString(), "bertclf.data.test", tmp.resolve(".").resolve("all.csv")
                        .toString(), "bertclf.data.download.enabled", "false")));
        assertTrue(e.getMessage().contains("data.train and bertclf.data.test are the same file"), e.getMessage());
    }

    @Test
    void aResumeRefusesOverridesThatChangeWhatTheRunComputesAndAcceptsSafeOnes() throws Exception {
        Path saved = Files.writeString(tmp.resolve("config.conf"), ConfigLoader.load(null,
                props("bertclf.train.learning-rate", "3e-5")).render());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadForResume(saved, props(
                "bertclf.train.learning-rate", "1e-4", "bertclf.model.frozen-layers", "2",
                "bertclf.train.log-every", "5")));
        assertTrue(e.getMessage().contains("bertclf.train.learning-rate = 1e-4 (the run has 3.0E-5)")
                || e.getMessage().contains("bertclf.train.learning-rate = 1e-4"), e.getMessage());
        assertTrue(e.getMessage().contains("bertclf.model.frozen-layers = 2"), e.getMessage());
        assertTrue(!e.getMessage().contains("log-every"), "a safe key is not named: " + e.getMessage());
        Settings ok = ConfigLoader.loadForResume(saved, props("bertclf.train.log-every", "5",
                "bertclf.train.resume", tmp.toString(), "bertclf.model.encoder-layers", "12",
                "bertclf.features.inference-max-length", "256"));
        assertEquals(5, ok.train().logEvery());
        assertEquals(256, ok.features().atInference().maxLength(), "only the test evaluation reads it");
        assertEquals(128, ok.features().maxLength());
        assertEquals(3e-5, ok.train().learningRate());
    }

    @Test
    void aResumedRunKeepsItsClassWeights() throws Exception {
        Path saved = Files.writeString(tmp.resolve("weighted.conf"), ConfigLoader.load(null,
                props("bertclf.train.class-weights.love", "3")).render());
        Settings resumed = ConfigLoader.loadForResume(saved, props("bertclf.train.resume", tmp.toString()));
        assertEquals(java.util.Map.of("love", 3.0), resumed.train().classWeights().given());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadForResume(saved, props(
                "bertclf.train.class-weights.love", "5", "bertclf.train.resume", tmp.toString())));
        assertTrue(e.getMessage().contains("bertclf.train.class-weights.love = 5"), e.getMessage());
    }

    @Test
    void shutdownGraceMustCoverThePredictionTimeout() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.serve.predict-timeout-ms", "60000", "bertclf.serve.shutdown-grace-ms", "30000")));
        assertTrue(e.getMessage().contains("shutdown-grace-ms (30000) must cover"), e.getMessage());
    }

    @Test
    void aNegativeServeWarmUpIsRefusedAndZeroTurnsItOff() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.serve.warmup-passes", "-1")));
        assertTrue(e.getMessage().contains("bertclf.serve.warmup-passes = -1 is out of range"), e.getMessage());
        assertEquals(0, ConfigLoader.load(null, props("bertclf.serve.warmup-passes", "0")).serve().warmupPasses());
        assertEquals(50, ConfigLoader.load(null, props()).serve().warmupPasses(), "reference default");
    }

    @Test
    void trainingPrecisionIsFp32UnlessSetAndUnknownFormatsAreRefused() {
        assertEquals(Settings.Precision.FP32, ConfigLoader.load(null, props()).train().precision());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.train.precision", "fp16")));
        assertTrue(e.getMessage().contains("bertclf.train.precision = \"fp16\" must be one of [bf16, fp32, int8]"),
                e.getMessage());
    }

    @Test
    void int8IsForInferenceOnlyAndNeedsTheFastKernels() {
        assertEquals(Settings.Precision.INT8, ConfigLoader.load(null, props("bertclf.inference.precision", "int8"))
                .inference().precision());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.train.precision", "int8", "bertclf.engine.kernels", "reference",
                "bertclf.inference.precision", "int8")));
        assertTrue(e.getMessage().contains("bertclf.train.precision = \"int8\": int8 is for inference only"),
                e.getMessage());
        assertTrue(e.getMessage().contains("bertclf.engine.kernels = \"reference\" runs libnd4j's kernels alone"),
                "both problems reported together: " + e.getMessage());
    }

    @Test
    void bf16IsRefusedOnACpuWithoutBf16ProductsNamingTheCpuAndTheAlternative() {
        String why = Settings.bf16Unavailable("train.precision", new CpuInfo.Cpu("Some Xeon", Set.of("avx2",
                "avx512f", "fma")));
        assertTrue(why.contains("bertclf.train.precision = \"bf16\" needs a CPU with bf16 products"), why);
        assertTrue(why.contains("amx_bf16 or avx512_bf16") && why.contains("Some Xeon")
                && why.contains("use \"fp32\""), why);
        assertNull(Settings.bf16Unavailable("train.precision", new CpuInfo.Cpu("Some EPYC", Set.of("avx512f",
                "avx512_bf16"))));
        assertNull(Settings.bf16Unavailable("train.precision", new CpuInfo.Cpu("Some Xeon", Set.of("amx_tile",
                "amx_bf16"))));
    }

    @Test
    void bf16LoadsExactlyWhereThisCpuHasBf16Products() {
        for (String key : List.of("train.precision", "inference.precision")) {
            Properties bf16 = props("bertclf." + key, "bf16");
            if (CpuInfo.hasBf16()) {
                Settings s = ConfigLoader.load(null, bf16);
                assertEquals(Settings.Precision.BF16, key.startsWith("train") ? s.train().precision()
                        : s.inference().precision(), key);
            } else {
                ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, bf16));
                assertTrue(e.getMessage().contains("bertclf." + key + " = \"bf16\" needs a CPU with bf16 products"),
                        e.getMessage());
            }
        }
    }

    @Test
    void bf16IsCheckedAgainstTheCpuTheSettingsAreForAndNotWhereThatCpuIsElsewhere() {
        CpuInfo.Cpu noBf16 = new CpuInfo.Cpu("Some Xeon", Set.of("avx2", "avx512f"));
        CpuInfo.Cpu withBf16 = new CpuInfo.Cpu("Some EPYC", Set.of("avx512f", "avx512_bf16"));
        for (String key : List.of("train.precision", "inference.precision")) {
            Properties bf16 = props("bertclf." + key, "bf16");
            ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, bf16, true,
                    noBf16));
            assertTrue(e.getMessage().contains("bertclf." + key + " = \"bf16\" needs a CPU with bf16 products")
                    && e.getMessage().contains("Some Xeon"), e.getMessage());
            for (CpuInfo.Cpu cpu : Arrays.asList(withBf16, null)) { // null: a Spark driver's executors elsewhere
                Settings s = ConfigLoader.load(null, bf16, true, cpu);
                assertEquals(Settings.Precision.BF16, key.startsWith("train") ? s.train().precision()
                        : s.inference().precision(), key + " on " + cpu);
            }
        }
    }

    @Test
    void inferencePrecisionIsFp32UnlessSetAndUnknownFormatsAreRefused() {
        assertEquals(Settings.Precision.FP32, ConfigLoader.load(null, props()).inference().precision());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, props(
                "bertclf.inference.precision", "int4")));
        assertTrue(e.getMessage().contains("bertclf.inference.precision = \"int4\" must be one of [bf16, fp32, int8]"),
                e.getMessage());
    }

    @Test
    void aResumedRunTakesTheInferencePrecisionOfTheMachineItResumesOn() throws Exception {
        // trained on a CPU with bf16, resumed on one that may have none
        Path saved = Files.writeString(tmp.resolve("config.conf"), ConfigLoader.load(null, props()).render()
                + "\nbertclf.inference.precision = \"bf16\"\n");
        Settings resumed = ConfigLoader.loadForResume(saved, props("bertclf.inference.precision", "fp32",
                "bertclf.train.resume", tmp.toString()));
        assertEquals(Settings.Precision.FP32, resumed.inference().precision());
    }
}
