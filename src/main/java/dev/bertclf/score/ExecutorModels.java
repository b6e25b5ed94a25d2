package dev.bertclf.score;

import dev.bertclf.io.MallocSettings;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.JvmSetup;
import dev.bertclf.run.RunFolder;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One classifier per executor JVM and run folder, loaded by the first task that needs it and shared by the later
 * ones. The tasks of an executor take turns on it, so each forward pass may use every core the executor was given.
 */
final class ExecutorModels {
    private static final Logger log = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<String, Model> MODELS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /**
     * A loaded classifier and the one thread that runs all its forward passes, whichever task asks. Spark runs
     * each task on a pool thread, and on {@code local[N]} N tasks at a time; once passes had run on two threads,
     * each took 40-60% longer with one core idle a third of the time, as in {@code Serve} (libnd4j's OpenMP
     * runtime; docs/performance.md, "Forward passes on one thread").
     *
     * @param passThreads the names of the threads that ran passes (one), for tests
     */
    record Model(Classifier classifier, ExecutorService passes, Set<String> passThreads) {
        /** Probabilities {@code [texts.size()][labels]}, computed on the pass thread; the caller waits. */
        float[][] predict(List<String> texts) {
            Future<float[][]> pass = passes.submit(() -> {
                passThreads.add(Thread.currentThread().getName());
                return classifier.predict(texts);
            });
            try {
                return pass.get();
            } catch (InterruptedException e) {
                pass.cancel(true);
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while scoring a batch", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(e.getCause());
            }
        }

        List<String> labels() {
            return classifier.labels();
        }
    }

    /**
     * @param runDir  the run folder, at a path every executor can read
     * @param threads ND4J threads per forward pass (0 = the machine's cores)
     */
    static Model model(String runDir, int threads) {
        return MODELS.computeIfAbsent(runDir, dir -> load(dir, threads));
    }

    private static Model load(String dir, int threads) {
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
        ExecutorService passes = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bertclf-scoring-passes");
            t.setDaemon(true);
            return t;
        });
        return new Model(c, passes, ConcurrentHashMap.newKeySet());
    }
}
