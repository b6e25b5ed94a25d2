/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkServe} (see docs/benchmarks.md). */
public final class BenchmarkServe {
    private BenchmarkServe() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(BenchmarkServe.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.BenchmarkCommand.serve(args));
    }
}
