/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkTraining} (see README, Benchmarks). */
public final class BenchmarkTraining {
    private BenchmarkTraining() {
    }

    public static void main(String[] args) {
        System.exit(dev.bertclf.app.BenchmarkCommand.training(args));
    }
}
