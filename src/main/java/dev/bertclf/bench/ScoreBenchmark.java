package dev.bertclf.bench;

import dev.bertclf.config.Settings;
import dev.bertclf.data.LabeledText;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.io.ChildJvm;
import dev.bertclf.io.MallocSettings;
import dev.bertclf.score.StandaloneCluster;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Batch scoring speed: {@code Predict} (one JVM, no Spark) against {@code Score} on {@code local[1]},
 * {@code local[2]} and a two-worker standalone cluster on loopback (one core each), over the same reviews. Each
 * runs as its own process(es), timed from start to exit (JVM start and model loading included); the peak RSS of
 * every JVM is sampled from /proc while it runs. Each driver gets this JVM's {@code bertclf.*} settings (such as
 * {@code -Dbertclf.inference.precision=bf16}); the executors get the driver's.
 */
public final class ScoreBenchmark {
    /** Executor heap and off-heap for BERT-base: loading model.fb takes about 3x its size on the heap. */
    static final String EXECUTOR_MEMORY = "3g";
    static final String EXECUTOR_OFF_HEAP =
            "-Dorg.bytedeco.javacpp.maxbytes=3g -Dorg.bytedeco.javacpp.maxphysicalbytes=6g";

    private ScoreBenchmark() {
    }

    /** One configuration's result: rows/s over the whole run, and each JVM's peak RSS in GB. */
    record Result(String what, int rows, double seconds, Map<String, Double> peakRssGb) {
    }

    /**
     * @param work the benchmark's own folder (inputs, outputs, the cluster's logs), emptied first so that a run does
     *             not stop on the outputs of the one before
     */
    public static void run(Path runDir, List<LabeledText> reviews, Path sparkHome, Path jobJar, Path work,
            Settings.Precision precision) throws IOException, InterruptedException {
        AtomicFiles.deleteRecursively(work);
        Files.createDirectories(work);
        Path input = writeInput(work.resolve("reviews.csv"), reviews);
        List<String> project = List.of("-cp", String.join(java.io.File.pathSeparator, ChildJvm.classPath()));
        List<Result> results = new ArrayList<>();
        results.add(timed("Predict (one JVM)", reviews.size(), Map.of(), jvm(project, List.of(), "Predict",
                runDir, input, work.resolve("predict.csv"))));
        for (int n : new int[]{1, 2}) {
            results.add(timed("Score local[" + n + "]", reviews.size(), Map.of(), jvm(project,
                    List.of("-Dspark.master=local[" + n + "]"), "Score", runDir, input,
                    work.resolve("local-" + n + ".parquet"))));
        }
        try (StandaloneCluster cluster = StandaloneCluster.start(sparkHome, work.resolve("cluster"), 2, 1,
                EXECUTOR_MEMORY)) {
            List<String> driver = new ArrayList<>(List.of("-Xmx1g"));
            driver.addAll(ChildJvm.propertyOptions("bertclf."));
            List<String> submit = cluster.submitCommand(driver, List.of("spark.executor.memory="
                    + EXECUTOR_MEMORY, "spark.executor.extraJavaOptions=" + EXECUTOR_OFF_HEAP), jobJar, "Score",
                    List.of(runDir.toString(), input.toString(), work.resolve("cluster.parquet").toString()));
            System.out.println("spark-submit equivalent: " + String.join(" ", submit));
            results.add(timed("Score on 2 workers x 1 core", reviews.size(), Map.of("cluster", cluster), submit));
        }
        print(results, precision);
    }

    private static Path writeInput(Path file, List<LabeledText> reviews) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180.builder().setHeader("id", "review", "sentiment")
                     .build())) {
            for (int i = 0; i < reviews.size(); i++) {
                p.printRecord(i, reviews.get(i).text(), reviews.get(i).label());
            }
        }
        return file;
    }

    private static List<String> jvm(List<String> classPath, List<String> options, String mainClass, Path... args) {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java()));
        cmd.addAll(ChildJvm.inheritedOptions());
        cmd.addAll(ChildJvm.propertyOptions("bertclf."));
        cmd.addAll(options);
        cmd.addAll(classPath);
        cmd.add(mainClass);
        for (Path a : args) {
            cmd.add(a.toString());
        }
        return cmd;
    }

    /** Runs a command to its end, sampling the peak RSS of it and of the cluster's JVMs every 200 ms. */
    private static Result timed(String what, int rows, Map<String, StandaloneCluster> cluster, List<String> cmd)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(MallocSettings.childEnvironment(System.getenv()));
        Process p = pb.start();
        Map<String, Double> peaks = new LinkedHashMap<>();
        while (!p.waitFor(200, TimeUnit.MILLISECONDS)) {
            sample(peaks, "driver", p.pid());
            if (!cluster.isEmpty()) {
                for (ProcessHandle h : cluster.get("cluster").processes()) {
                    if (h.info().command().orElse("").endsWith("java")) {
                        String name = h.info().arguments().map(ScoreBenchmark::role).orElse("jvm");
                        sample(peaks, name + " " + h.pid(), h.pid());
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (p.exitValue() != 0) {
            throw new IllegalStateException(what + " failed with exit code " + p.exitValue());
        }
        return new Result(what, rows, seconds, peaks);
    }

    private static String role(String[] args) {
        String all = String.join(" ", args);
        return all.contains("CoarseGrainedExecutorBackend") ? "executor" : all.contains("deploy.worker.Worker")
                ? "worker" : all.contains("deploy.master.Master") ? "master" : "jvm";
    }

    private static void sample(Map<String, Double> peaks, String name, long pid) {
        double gb = ChildJvm.peakRssGb(pid);
        if (!Double.isNaN(gb)) {
            peaks.merge(name, gb, Math::max);
        }
    }

    private static void print(List<Result> results, Settings.Precision precision) {
        System.out.printf("%nBatch scoring, %s, %s, %s products%n", Stats.cpuModel(), Stats.machine(),
                Settings.nameOf(precision));
        System.out.println("| run | rows | wall s | rows/s | peak RSS per JVM (GB) |");
        System.out.println("| --- | ---: | ---: | ---: | --- |");
        for (Result r : results) {
            List<String> rss = new ArrayList<>();
            r.peakRssGb().forEach((k, v) -> rss.add(k.replaceAll(" \\d+$", "") + " "
                    + String.format(Locale.ROOT, "%.2f", v)));
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.2f | %s |%n", r.what(), r.rows(), r.seconds(),
                    r.rows() / r.seconds(), String.join(", ", rss));
        }
    }
}
