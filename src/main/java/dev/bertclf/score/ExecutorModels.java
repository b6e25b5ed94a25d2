package dev.bertclf.score;

import dev.bertclf.config.CpuInfo;
import dev.bertclf.config.Settings;
import dev.bertclf.io.MallocSettings;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.Explainer;
import dev.bertclf.model.Task;
import dev.bertclf.model.JvmSetup;
import dev.bertclf.run.RunFolder;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One classifier per executor JVM, run folder and precision, loaded by the first task that needs it and shared by
 * the later ones. The tasks of an executor take turns on it, so each forward pass may use every core the executor
 * was given.
 */
final class ExecutorModels {
    private static final Logger log = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<String, Model> MODELS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /**
     * A loaded classifier and the one thread that runs all its forward passes, whichever task asks. Spark runs
     * each task on a pool thread, and on {@code local[N]} N tasks at a time; once passes had run on two threads,
     * each took much longer with one core often idle, as in {@code Serve} (libnd4j's OpenMP
     * runtime; docs/performance.md, "Forward passes on one thread"). Its explainers (a second copy of the graph
     * each, by explanation settings) are loaded by the first row that asks, on the pass thread too.
     *
     * @param passThreads the names of the threads that ran passes (one), for tests
     */
    record Model(RunFolder run, Settings.Precision precision, Classifier classifier, ExecutorService passes,
                 Set<String> passThreads, Map<Settings.ExplainSettings, Explainer> explainers) {
        /** Probabilities {@code [texts.size()][labels]}, computed on the pass thread; the caller waits. */
        float[][] predict(List<String> texts) {
            return onPassThread(() -> classifier.predict(texts));
        }

        /** The explanation of what the classifier chose for {@code text}, computed on the pass thread. */
        Explainer.Explained explain(String text, Settings.ExplainSettings settings) {
            return onPassThread(() -> explainers.computeIfAbsent(settings, s -> run.explainer(precision, s))
                    .explain(text));
        }

        private <T> T onPassThread(Callable<T> work) {
            Future<T> pass = passes.submit(() -> {
                passThreads.add(Thread.currentThread().getName());
                return work.call();
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

        Task task() {
            return classifier.task();
        }

        List<String> labels() {
            return classifier.labels();
        }
    }

    /**
     * @param runDir  the run folder, at a path every executor can read
     * @param threads ND4J threads per forward pass (0 = the cores the cluster manager gave this executor, else the
     *                machine's)
     * @param precision the passes' ({@code inference.precision})
     */
    static Model model(String runDir, int threads, Settings.Precision precision) {
        return MODELS.computeIfAbsent(runDir + " in " + Settings.nameOf(precision), k -> load(runDir, threads,
                precision));
    }

    /**
     * The cores a cluster manager gave this executor JVM: the {@code --cores N} that Spark's executor backend
     * ({@code CoarseGrainedExecutorBackend} and its YARN and Kubernetes variants) is started with. Two executors of
     * one core each on a 2-core machine would otherwise each run 2 ND4J threads. Empty in a driver (local mode).
     *
     * @param jvmArguments this JVM's command-line arguments, main class and its arguments included
     */
    static OptionalInt launchCores(List<String> jvmArguments) {
        boolean executor = jvmArguments.stream().anyMatch(a -> a.startsWith("org.apache.spark.")
                && a.endsWith("ExecutorBackend"));
        int at = jvmArguments.indexOf("--cores");
        if (!executor || at < 0 || at + 1 >= jvmArguments.size()) {
            return OptionalInt.empty();
        }
        try {
            int cores = Integer.parseInt(jvmArguments.get(at + 1));
            return cores > 0 ? OptionalInt.of(cores) : OptionalInt.empty();
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /**
     * Refuses bf16 passes on an executor whose CPU has no bf16 products ({@code avx512_bf16} or {@code amx_bf16} in
     * its flags). A driver on {@code local[N]} checked its own CPU, this one, when it read the configuration; a
     * driver on a cluster checks none ({@code ConfigLoader.loadForRemoteExecutors}), and an executor without them
     * would get oneDNN's slow emulation or libnd4j's float32 products instead of an error.
     */
    static void checkCpu(Settings.Precision precision, CpuInfo.Cpu cpu, String host) {
        if (precision == Settings.Precision.BF16) {
            String noBf16 = Settings.bf16Unavailable("inference.precision", cpu);
            if (noBf16 != null) {
                throw new IllegalStateException("the Spark executor on " + host + ": " + noBf16);
            }
        }
    }

    private static Model load(String dir, int threads, Settings.Precision precision) {
        checkCpu(precision, CpuInfo.Cpu.thisOne(), hostName());
        JvmSetup.apply();
        int n = threads > 0 ? threads : launchCores(ProcessHandle.current().info().arguments().map(List::of)
                .orElse(List.of())).orElse(Runtime.getRuntime().availableProcessors());
        Nd4j.getEnvironment().setMaxMasterThreads(n);
        Nd4j.getEnvironment().setMaxThreads(n);
        Nd4j.factory().blas().setMaxThreads(n);
        long start = System.nanoTime();
        RunFolder run = new RunFolder(Path.of(dir));
        Classifier c = run.classifier(precision);
        String seconds = String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e9);
        log.info("Loaded the classifier of {} in {} s, {} ND4J threads per forward pass, {} products, glibc malloc"
                + " settings {}", dir, seconds, n, Settings.nameOf(precision),
                MallocSettings.inEffect(System.getenv()) ? "in effect" : "NOT in effect");
        // the explainers are used on the pass thread alone
        return new Model(run, precision, c, passThread(n), ConcurrentHashMap.newKeySet(), new HashMap<>());
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "an unnamed host";
        }
    }

    /**
     * The one thread that runs a model's forward passes, its OpenMP parallel regions limited to {@code threads}.
     * ND4J's thread settings (above) reach libnd4j's own loops but not the GEMMs: libnd4j's oneDNN kernels and
     * {@code nd4jfix.speed.OneDnnKernels} take OpenMP's thread count, and OpenMP keeps that count per thread, so it is
     * set on the thread that runs the passes. Without it a 1-core executor's products kept 2 cores busy.
     */
    static ExecutorService passThread(int threads) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(() -> {
                NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
                r.run();
            }, "bertclf-scoring-passes");
            t.setDaemon(true);
            return t;
        });
    }
}
