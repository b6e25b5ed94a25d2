/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkForward} (see README, Benchmarks). */
public final class BenchmarkForward {
    private BenchmarkForward() {
    }

    public static void main(String[] args) {
        System.exit(dev.bertclf.app.BenchmarkCommand.forward(args));
    }
}
