package dev.bertclf.score;

import dev.bertclf.RealBert;
import dev.bertclf.run.RunFolder;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Score} submitted with {@code SparkSubmit} to a real standalone cluster on loopback (a master and two
 * workers, each its own JVM, started without the malloc settings): executors in other JVMs load the model and its
 * native libraries with the malloc settings the application gives them, and the result is what {@code Predict}
 * gives.
 */
@Tag("slow")
class StandaloneClusterTest {
    /** Kept when the test fails: the cluster's logs and the submission's output are in it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;

    @Test
    void scoreSubmittedToATwoWorkerClusterGivesWhatPredictGives() throws Exception {
        RunFolder run = RealBert.tinyRun();
        Map<String, List<String>> expected = SparkScoringTest.predictById(run, SparkScoringTest.FIXTURE,
                tmp.resolve("predict.csv"));
        Path output = tmp.resolve("scored.parquet");
        Path cluster = tmp.resolve("cluster");
        Path appJar = ProjectSparkHome.create(tmp.resolve("spark-home"));

        try (StandaloneCluster c = StandaloneCluster.start(tmp.resolve("spark-home"), cluster, 2, 1, "2g")) {
            List<String> cmd = c.submitCommand(List.of("-Xmx1g"), List.of("spark.executor.memory=2g",
                    "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=2g "
                            + "-Dorg.bytedeco.javacpp.maxphysicalbytes=3g", "spark.ui.enabled=false"),
                    appJar, "Score",
                    List.of(run.dir().toString(), SparkScoringTest.FIXTURE.toString(), output.toString()));
            Path log = tmp.resolve("submit.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), "Score finishes");
            assertEquals(0, p.exitValue(), () -> "Score failed:\n" + tail(log));
            assertTrue(Files.readString(log).contains("Scored 200 of 200 rows"), () -> tail(log));
            for (int worker = 1; worker <= 2; worker++) {
                String executor = executorLogs(cluster.resolve("work-" + worker));
                assertTrue(executor.contains("Loaded the classifier"),
                        "worker " + worker + "'s executor loaded the model");
                assertTrue(executor.contains("glibc malloc settings in effect"),
                        "worker " + worker + "'s executor got the malloc settings from the application");
                // the submission names no spark.executor.cores, and the machine has at least 2
                assertTrue(executor.contains(", 1 ND4J threads per forward pass"),
                        "worker " + worker + "'s executor runs as many ND4J threads as its worker gave it cores");
            }
        }

        SparkSession spark = SparkSession.builder().master("local[1]").appName("read")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            List<Row> rows = spark.read().parquet(output.toString()).collectAsList();
            SparkScoringTest.assertSameAsPredict(expected, rows);
        } finally {
            spark.stop();
        }
    }

    private static String executorLogs(Path workDir) throws java.io.IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(workDir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
                all.append(Files.readString(f));
            }
        }
        return all.toString();
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.substring(Math.max(0, s.length() - 6000));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
