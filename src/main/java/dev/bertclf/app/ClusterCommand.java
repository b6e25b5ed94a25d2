package dev.bertclf.app;

import dev.bertclf.score.StandaloneCluster;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code Cluster <spark-home> <workers> <cores-per-worker> <memory-per-worker>}: a Spark standalone cluster on
 * loopback (a master and the workers, each its own JVM) until Ctrl-C; logs and executor folders in
 * {@code cluster/work}. Prints the master URL to submit {@code Score} to.
 */
public final class ClusterCommand {
    private ClusterCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Cluster", args, "<spark-home> <workers> <cores-per-worker> <memory-per-worker>", () -> {
            StandaloneCluster cluster = StandaloneCluster.start(Path.of(args[0]), Path.of("cluster", "work"),
                    Integer.parseInt(args[1]), Integer.parseInt(args[2]), args[3]);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                cluster.close();
                stopped.countDown();
            }));
            System.out.println("Spark master: " + cluster.masterUrl() + " (Ctrl-C stops the cluster)");
            stopped.await();
            return Cli.OK;
        });
    }
}
