package dev.bertclf.app;

import dev.bertclf.train.TrainingState;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.RealBert;
import dev.bertclf.TestSettings;
import dev.bertclf.io.MallocSettings;
import dev.bertclf.nd4jfix.repair.ArrayCacheOff;
import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.model.SavedGraphs;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training run killed with SIGKILL after a checkpoint, and again while writing the next one, continues with
 * {@code train.resume} from the last complete checkpoint and computes exactly what an uninterrupted run with the
 * same seeds computes: the same loss at every step and the same final weights. A resume that dropped the Adam
 * state, restarted the learning-rate schedule or reshuffled the data would not.
 */
@Tag("slow")
class ResumeAfterKillTest {
    static final int EVERY = 3;

    @TempDir
    Path tmp;

    /** The multi-label run trains on 32 GoEmotions comments: multi-hot labels must follow the resumed batches. */
    @ParameterizedTest
    @ValueSource(strings = {"single-label", "multi-label"})
    void killedRunResumesFromItsCheckpoint(String task) throws Exception {
        Path runs = tmp.resolve("runs");
        String dataConf;
        if (task.equals("single-label")) {
            RealBert.TinyImdb data = RealBert.tinyImdb(tmp);
            dataConf = "train = \"%s\", test = \"%s\"".formatted(data.train(), data.test());
        } else {
            RealBert.TinyGoEmotions data = RealBert.tinyGoEmotions(tmp);
            // 32 comments to train on, as the single-label run has: 4 steps per epoch
            dataConf = ("train = \"%s\", test = \"%s\", text-column = text, label-column = emotions,"
                    + " label-separator = \";\", train-limit = 32").formatted(data.train(), data.test());
        }
        Path conf = Files.writeString(tmp.resolve("resume.conf"), """
                bertclf {
                  experiment = resume
                  model { encoder-layers = 2, cache-dir = "%s", task = %s }
                  data { %s, validation = 8, download.enabled = false }
                  features { max-length = 32 }
                  train { epochs = 3, batch-size = 8, learning-rate = 1e-4, checkpoint-every = %d,
                          runs-dir = "%s", eval-batch-size = 8 }
                }
                """.formatted(RealBert.CACHE.toAbsolutePath(), task, dataConf, EVERY, runs));

        ProcessBuilder killed = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx4g", "-D" + ArrayCacheOff.PROPERTY + "=false", "-Dorg.bytedeco.javacpp.maxbytes=8g",
                "-Dorg.bytedeco.javacpp.maxphysicalbytes=12g",
                "-cp", System.getProperty("java.class.path"), "Train", conf.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        killed.environment().putAll(MallocSettings.childEnvironment(System.getenv())); // Train runs in this JVM
        Process child = killed.start();
        Path runDir = null;
        int killedAtCheckpoint = -1;
        long deadline = System.currentTimeMillis() + 300_000;
        while (System.currentTimeMillis() < deadline && child.isAlive()) {
            runDir = onlyRun(runs);
            Path state = runDir == null ? null : runDir.resolve(RunFolder.CHECKPOINT).resolve("state.json");
            if (state != null && Files.isRegularFile(state)) {
                killedAtCheckpoint = new ObjectMapper().readTree(state.toFile()).get("globalStep").asInt();
                child.destroyForcibly().waitFor();
                break;
            }
            Thread.sleep(200);
        }
        assertTrue(killedAtCheckpoint >= EVERY, "the child wrote a checkpoint before being killed: "
                + Files.readString(tmp.resolve("child.log")));
        RunFolder run = new RunFolder(runDir);
        assertFalse(run.isComplete(), "a killed run is not complete");
        // what a second kill, in the middle of writing the next checkpoint, leaves behind
        Path cutShort = Files.createDirectories(runDir.resolve(RunFolder.CHECKPOINT + ".new"));
        Files.write(cutShort.resolve("weights.bin"), new byte[1000]);

        TrainingApp.Result r = TrainingApp.run(TestSettings.with("train.resume=" + runDir));

        assertEquals(runDir, r.run().dir());
        assertTrue(r.run().isComplete());
        List<Integer> steps = new ArrayList<>(r.state().steps().stream().map(TrainingState.Step::step).toList());
        assertEquals(java.util.stream.IntStream.rangeClosed(1, 12).boxed().toList(), steps,
                "every step exactly once: the checkpointed ones kept, the rest trained after resuming");
        JsonNode metrics = new ObjectMapper().readTree(run.file(RunFolder.METRICS).toFile());
        assertEquals(12, metrics.get("steps").asInt());
        assertEquals(3, metrics.get("epochs").size());
        assertEquals(run.labels().size(), run.classifier(Settings.Precision.FP32).predict(List.of("fine"))[0].length,
                "loadable, a probability per label");

        Properties uninterrupted = new Properties();
        uninterrupted.setProperty("bertclf.train.runs-dir", tmp.resolve("uninterrupted").toString());
        TrainingApp.Result u = TrainingApp.run(ConfigLoader.load(conf, uninterrupted));
        List<TrainingState.Step> expected = u.state().steps();
        List<TrainingState.Step> resumed = r.state().steps();
        for (int i = 0; i < expected.size(); i++) {
            System.out.printf("step %2d loss uninterrupted %.6f resumed %.6f lr %.3g %.3g%n", i + 1,
                    expected.get(i).loss(), resumed.get(i).loss(), expected.get(i).learningRate(),
                    resumed.get(i).learningRate());
            assertEquals(expected.get(i).loss(), resumed.get(i).loss(), 1e-4, "loss at step " + (i + 1));
            assertEquals(expected.get(i).learningRate(), resumed.get(i).learningRate(), 1e-12, "step " + (i + 1));
        }
        SameDiff a = SavedGraphs.load(u.run().file(RunFolder.MODEL));
        SameDiff b = SavedGraphs.load(run.file(RunFolder.MODEL));
        int compared = 0;
        for (SDVariable v : a.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                double diff = v.getArr().sub(b.getVariable(v.name()).getArr()).amaxNumber().doubleValue();
                assertTrue(diff < 1e-4, "final weights of " + v.name() + " differ by " + diff);
                compared++;
            }
        }
        assertTrue(compared > 30, "compared the trained weights: " + compared);
    }

    private static Path onlyRun(Path runs) throws Exception {
        if (!Files.isDirectory(runs)) {
            return null;
        }
        try (Stream<Path> s = Files.list(runs)) {
            return s.filter(Files::isDirectory).findFirst().orElse(null);
        }
    }
}
