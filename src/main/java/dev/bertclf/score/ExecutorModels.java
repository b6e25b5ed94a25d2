package dev.bertclf.score;

import dev.bertclf.io.MallocSettings;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.JvmSetup;
import dev.bertclf.run.RunFolder;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One classifier per executor JVM and run folder, loaded by the first task that needs it and shared by the later
 * ones. The tasks of an executor take turns on it ({@link Classifier#predict} is one caller at a time), so each
 * forward pass may use every core the executor was given.
 */
final class ExecutorModels {
    private static final Logger log = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<String, Classifier> MODELS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /**
     * @param runDir  the run folder, at a path every executor can read
     * @param threads ND4J threads per forward pass (0 = the machine's cores)
     */
    static Classifier classifier(String runDir, int threads) {
        return MODELS.computeIfAbsent(runDir, dir -> load(dir, threads));
    }

    private static Classifier load(String dir, int threads) {
        JvmSetup.apply();
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        Nd4j.getEnvironment().setMaxMasterThreads(n);
        Nd4j.getEnvironment().setMaxThreads(n);
        Nd4j.factory().blas().setMaxThreads(n);
        long start = System.nanoTime();
        Classifier c = new RunFolder(Path.of(dir)).classifier();
        log.info("Loaded the classifier of {} in {} s, {} ND4J threads per forward pass, glibc malloc settings {}",
                dir, String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e9), n,
                MallocSettings.inEffect(System.getenv()) ? "in effect" : "NOT in effect");
        return c;
    }
}
