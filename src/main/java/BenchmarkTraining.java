/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkTraining} (see docs/benchmarks.md). */
public final class BenchmarkTraining {
    private BenchmarkTraining() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(BenchmarkTraining.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.BenchmarkCommand.training(args));
    }
}
