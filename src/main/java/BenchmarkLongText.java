/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkLongText -Dexec.args="--run <run-folder>"}. */
public final class BenchmarkLongText {
    private BenchmarkLongText() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(BenchmarkLongText.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.BenchmarkCommand.longText(args));
    }
}
