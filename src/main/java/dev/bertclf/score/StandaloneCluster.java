package dev.bertclf.score;

import dev.bertclf.io.ChildJvm;
import dev.bertclf.io.MallocSettings;
import org.apache.spark.launcher.JavaModuleOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on this machine's loopback interface, started with the classes Spark's own scripts
 * call ({@code org.apache.spark.deploy.master.Master}, {@code ...worker.Worker}): a master and N workers, each its
 * own JVM with bounded memory, launched from a Spark home (a folder whose {@code jars/} holds Spark's jars: a Spark
 * distribution, or the folder that {@code cluster/pom.xml} fills from Maven). Applications are submitted with
 * {@link #submitCommand}, as {@code spark-submit} would.
 */
public final class StandaloneCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StandaloneCluster.class);
    /** Heap of the master and of each worker daemon (their executors get the worker's memory). */
    public static final String DAEMON_HEAP = "-Xmx384m";
    private final Path home;
    private final Path work;
    private final List<Process> daemons = new ArrayList<>();
    private String masterUrl;
    private int webPort;

    private StandaloneCluster(Path home, Path work) {
        this.home = home;
        this.work = work;
    }

    /**
     * Starts a master and {@code workers} workers, each offering {@code cores} cores and {@code memory} (e.g.
     * {@code 3g}) to executors, and waits until every worker has registered.
     *
     * @param sparkHome a folder with Spark's jars in {@code jars/}
     * @param work      the daemons' logs ({@code logs/}) and the workers' work folders (executor logs)
     */
    public static StandaloneCluster start(Path sparkHome, Path work, int workers, int cores, String memory)
            throws IOException {
        requireSparkHome(sparkHome);
        Files.createDirectories(work);
        StandaloneCluster c = new StandaloneCluster(sparkHome.toAbsolutePath(), work);
        try {
            c.startMaster();
            for (int i = 1; i <= workers; i++) {
                Path dir = Files.createDirectories(work.resolve("work-" + i));
                c.daemons.add(c.daemon("worker-" + i, List.of(), List.of("org.apache.spark.deploy.worker.Worker",
                        "--host", "127.0.0.1", "--cores", String.valueOf(cores), "--memory", memory, "--work-dir",
                        dir.toString(), "--webui-port", "0", c.masterUrl)));
            }
            c.awaitWorkers(workers, Duration.ofSeconds(90));
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        log.info("Spark standalone cluster at {}: {} workers with {} cores and {} each; logs in {}", c.masterUrl,
                workers, cores, memory, work.resolve("logs"));
        return c;
    }

    private static void requireSparkHome(Path home) throws IOException {
        try (Stream<Path> jars = Files.isDirectory(home.resolve("jars")) ? Files.list(home.resolve("jars"))
                : Stream.empty()) {
            if (jars.noneMatch(j -> j.getFileName().toString().startsWith("spark-core_"))) {
                throw new IllegalArgumentException(home.toAbsolutePath() + " is not a Spark home: no "
                        + "jars/spark-core_*.jar. Fill one from Maven with: mvn -f cluster/pom.xml "
                        + "dependency:copy-dependencies -DoutputDirectory=" + home.toAbsolutePath().resolve("jars"));
            }
        }
    }

    public String masterUrl() {
        return masterUrl;
    }

    /**
     * A {@code SparkSubmit} command for this cluster, in client mode (the driver runs in the new JVM).
     *
     * @param driverOptions JVM options of the driver (heap, {@code -D} settings)
     * @param sparkConf     {@code key=value} Spark settings
     * @param appJar        the application jar, such as {@code target/bert-classifier-job.jar}
     */
    public List<String> submitCommand(List<String> driverOptions, List<String> sparkConf, Path appJar,
                                      String mainClass, List<String> args) {
        List<String> cmd = javaCommand(driverOptions);
        cmd.addAll(List.of("org.apache.spark.deploy.SparkSubmit", "--master", masterUrl, "--deploy-mode", "client",
                "--class", mainClass, "--conf", "spark.driver.host=127.0.0.1"));
        sparkConf.forEach(kv -> cmd.addAll(List.of("--conf", kv)));
        cmd.add(appJar.toAbsolutePath().toString());
        cmd.addAll(args);
        return cmd;
    }

    /** The master, the workers, and the executors the workers started, for memory figures. */
    public List<ProcessHandle> processes() {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : daemons) {
            all.add(p.toHandle());
            p.toHandle().descendants().forEach(all::add);
        }
        return all;
    }

    @Override
    public void close() {
        List<Process> workersFirst = new ArrayList<>(daemons);
        java.util.Collections.reverse(workersFirst);
        for (Process p : workersFirst) {
            p.toHandle().descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : daemons) {
            try {
                if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private List<String> javaCommand(List<String> options) {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java()));
        cmd.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptions().split(" ")));
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", home.resolve("jars").toAbsolutePath() + "/*"));
        return cmd;
    }

    private Process daemon(String name, List<String> options, List<String> mainAndArgs) throws IOException {
        List<String> jvm = new ArrayList<>(List.of(DAEMON_HEAP));
        jvm.addAll(options);
        List<String> cmd = javaCommand(jvm);
        cmd.addAll(mainAndArgs);
        Path logs = Files.createDirectories(work.resolve("logs"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(logs.resolve(name + ".log").toFile());
        // a worker launches its executors from this Spark home: jars/ (no build folders), Scala 2.13
        pb.environment().put("SPARK_HOME", home.toAbsolutePath().toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        // the daemons run no ND4J; executors get the malloc settings from their application (spark.executorEnv.*),
        // as on machines that do not set them
        MallocSettings.ENVIRONMENT.keySet().forEach(pb.environment()::remove);
        return pb.start();
    }

    /**
     * Starts the master on two free ports and waits until its status page answers, before any worker starts: a
     * worker's own ports (chosen by the system) could otherwise take one of the master's (seen once in CI, where the
     * master's web UI then moved to the next port and this class polled a worker). A port taken by another process
     * between choosing it and binding it stops the master ({@code spark.port.maxRetries=0}: no silent move to the
     * next port), and a new pair is tried.
     */
    private void startMaster() throws IOException {
        for (int attempt = 1; ; attempt++) {
            int port = freePort();
            webPort = freePort();
            masterUrl = "spark://127.0.0.1:" + port;
            Process master = daemon("master", List.of("-Dspark.port.maxRetries=0"), List.of(
                    "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String.valueOf(port),
                    "--webui-port", String.valueOf(webPort)));
            if (awaitMasterPage(master, Duration.ofSeconds(60))) {
                daemons.add(master);
                return;
            }
            master.destroyForcibly();
            if (attempt == 3) {
                throw new IOException("the Spark master stopped " + attempt + " times while binding free ports; see "
                        + work.resolve("logs").resolve("master.log"));
            }
            log.warn("The Spark master could not bind port {} or {} (taken since they were chosen); trying others",
                    port, webPort);
        }
    }

    /** True once the master's status page answers; false if the master stops first. */
    private boolean awaitMasterPage(Process master, Duration timeout) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webPort + "/json/"))
                .timeout(Duration.ofSeconds(5)).build();
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (!master.isAlive()) {
                return false;
            }
            try {
                if (http.send(status, HttpResponse.BodyHandlers.ofString()).statusCode() == 200 && master.isAlive()) {
                    return true;
                }
            } catch (IOException notYet) {
                // still starting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            sleep(300);
        }
        master.destroyForcibly();
        throw new IOException("the Spark master's status page did not answer within " + timeout.toSeconds()
                + " s; see " + work.resolve("logs").resolve("master.log"));
    }

    /** Waits until the master's status page counts {@code n} live workers. */
    private void awaitWorkers(int n, Duration timeout) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest status = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webPort + "/json/"))
                .timeout(Duration.ofSeconds(5)).build();
        long end = System.nanoTime() + timeout.toNanos();
        int alive = 0;
        while (System.nanoTime() < end) {
            if (daemons.stream().anyMatch(p -> !p.isAlive())) {
                throw new IOException("a Spark daemon stopped; see the logs in " + work.resolve("logs"));
            }
            try {
                HttpResponse<String> r = http.send(status, HttpResponse.BodyHandlers.ofString());
                alive = r.statusCode() == 200 ? new ObjectMapper().readTree(r.body()).path("aliveworkers").asInt() : 0;
                if (alive >= n) {
                    return;
                }
            } catch (IOException notYet) {
                // the master is still starting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            sleep(300);
        }
        throw new IOException(alive + " of " + n + " Spark workers registered within " + timeout.toSeconds()
                + " s; see the logs in " + work.resolve("logs"));
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
