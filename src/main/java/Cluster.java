/**
 * Launcher: {@code mvn exec:java -Dexec.mainClass=Cluster -Dexec.args="cluster/spark-home 2 1 4g"} (see
 * docs/serving.md, "Scoring on Apache Spark").
 */
public final class Cluster {
    private Cluster() {
    }

    public static void main(String[] args) {
        System.exit(dev.bertclf.app.ClusterCommand.main(args));
    }
}
