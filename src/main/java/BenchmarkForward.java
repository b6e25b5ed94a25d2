/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkForward} (see docs/benchmarks.md). */
public final class BenchmarkForward {
    private BenchmarkForward() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(BenchmarkForward.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.BenchmarkCommand.forward(args));
    }
}
