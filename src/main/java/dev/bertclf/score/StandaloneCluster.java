package dev.bertclf.score;

import dev.bertclf.io.ChildJvm;
import org.apache.spark.launcher.JavaModuleOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on this machine's loopback interface, started with the classes Spark's own scripts
 * call ({@code org.apache.spark.deploy.master.Master}, {@code ...worker.Worker}): a master and N workers, each its
 * own JVM with bounded memory. Spark's distribution is not needed: the cluster's Spark home is a {@code jars/}
 * folder linking the project's class path (Spark's jars from Maven included) plus the project's own classes as
 * {@code bert-classifier.jar}, which is also the application jar to submit.
 */
public final class StandaloneCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StandaloneCluster.class);
    /** Heap of the master and of each worker daemon (their executors get the worker's memory). */
    public static final String DAEMON_HEAP = "-Xmx384m";
    public static final String APP_JAR = "bert-classifier.jar";

    private final Path home;
    private final String masterUrl;
    private final List<Process> daemons = new ArrayList<>();

    private final int webPort;

    private StandaloneCluster(Path home, int port, int webPort) {
        this.home = home;
        this.masterUrl = "spark://127.0.0.1:" + port;
        this.webPort = webPort;
    }

    /**
     * Starts a master and {@code workers} workers, each offering {@code cores} cores and {@code memory} (e.g.
     * {@code 3g}) to executors, and waits until every worker has registered.
     *
     * @param home the cluster's folder: Spark home ({@code jars/}), logs and the workers' work folders
     */
    public static StandaloneCluster start(Path home, int workers, int cores, String memory) throws IOException {
        Files.createDirectories(home);
        linkJars(home);
        StandaloneCluster c = new StandaloneCluster(home, freePort(), freePort());
        try {
            c.daemons.add(c.daemon("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", c.masterUrl.substring(c.masterUrl.lastIndexOf(':') + 1), "--webui-port",
                    String.valueOf(c.webPort))));
            for (int i = 1; i <= workers; i++) {
                Path work = Files.createDirectories(home.resolve("work-" + i));
                c.daemons.add(c.daemon("worker-" + i, List.of("org.apache.spark.deploy.worker.Worker", "--host",
                        "127.0.0.1", "--cores", String.valueOf(cores), "--memory", memory, "--work-dir",
                        work.toString(), "--webui-port", "0", c.masterUrl)));
            }
            c.awaitWorkers(workers, Duration.ofSeconds(90));
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        log.info("Spark standalone cluster at {}: {} workers with {} cores and {} each; logs in {}", c.masterUrl,
                workers, cores, memory, home.resolve("logs"));
        return c;
    }

    public String masterUrl() {
        return masterUrl;
    }

    /** The application jar (the project's classes) to give spark-submit. */
    public Path appJar() {
        return home.resolve("jars").resolve(APP_JAR);
    }

    /**
     * A {@code SparkSubmit} command for this cluster, in client mode (the driver runs in the new JVM).
     *
     * @param driverOptions JVM options of the driver (heap, {@code -D} settings)
     * @param sparkConf     {@code key=value} Spark settings
     */
    public List<String> submitCommand(List<String> driverOptions, List<String> sparkConf, String mainClass,
                                      List<String> args) {
        List<String> cmd = javaCommand(driverOptions);
        cmd.addAll(List.of("org.apache.spark.deploy.SparkSubmit", "--master", masterUrl, "--deploy-mode", "client",
                "--class", mainClass, "--conf", "spark.driver.host=127.0.0.1"));
        sparkConf.forEach(kv -> cmd.addAll(List.of("--conf", kv)));
        cmd.add(appJar().toString());
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

    private Process daemon(String name, List<String> mainAndArgs) throws IOException {
        List<String> cmd = javaCommand(List.of(DAEMON_HEAP));
        cmd.addAll(mainAndArgs);
        Path logs = Files.createDirectories(home.resolve("logs"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(logs.resolve(name + ".log").toFile());
        // a worker launches its executors from this Spark home: jars/ and no build folders, Scala 2.13
        pb.environment().put("SPARK_HOME", home.toAbsolutePath().toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
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
                throw new IOException("a Spark daemon stopped; see the logs in " + home.resolve("logs"));
            }
            try {
                HttpResponse<String> r = http.send(status, HttpResponse.BodyHandlers.ofString());
                alive = r.statusCode() == 200 ? new ObjectMapper().readTree(r.body()).path("aliveworkers").asInt() : 0;
                if (alive >= n) {
                    return;
                }
                Thread.sleep(300);
            } catch (IOException notYet) {
                sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        throw new IOException(alive + " of " + n + " Spark workers registered within " + timeout.toSeconds()
                + " s; see the logs in " + home.resolve("logs"));
    }

    /**
     * Fills {@code home/jars}: a link to every jar of the class path, and the project's class folders packed into
     * {@link #APP_JAR}.
     */
    private static void linkJars(Path home) throws IOException {
        Path jars = home.resolve("jars");
        if (Files.isDirectory(jars)) {
            try (Stream<Path> old = Files.list(jars)) {
                for (Path p : old.toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(jars);
        List<Path> classFolders = new ArrayList<>();
        for (String entry : ChildJvm.classPath()) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p)) {
                if (!p.endsWith("test-classes")) {
                    classFolders.add(p);
                }
            } else if (p.toString().endsWith(".jar") && Files.isRegularFile(p)) {
                Path link = jars.resolve(p.getFileName());
                if (!Files.exists(link)) {
                    Files.createSymbolicLink(link, p);
                }
            }
        }
        try (OutputStream out = Files.newOutputStream(jars.resolve(APP_JAR));
             JarOutputStream jar = new JarOutputStream(out)) {
            for (Path folder : classFolders) {
                addFolder(jar, folder);
            }
        }
    }

    private static void addFolder(JarOutputStream jar, Path folder) throws IOException {
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                jar.putNextEntry(new java.util.jar.JarEntry(folder.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
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
