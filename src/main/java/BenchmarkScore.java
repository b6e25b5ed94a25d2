/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkScore -Dexec.args="..."} (see docs/benchmarks.md). */
public final class BenchmarkScore {
    private BenchmarkScore() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(BenchmarkScore.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.BenchmarkCommand.score(args));
    }
}
