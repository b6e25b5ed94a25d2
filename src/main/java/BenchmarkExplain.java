/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkExplain -Dexec.args="--run <run-folder>"}. */
public final class BenchmarkExplain {
    private BenchmarkExplain() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(BenchmarkExplain.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.BenchmarkCommand.explain(args));
    }
}
