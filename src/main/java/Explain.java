/** Launcher: {@code mvn exec:java -Dexec.mainClass=Explain -Dexec.args="<run> input.csv out.html"}. */
public final class Explain {
    private Explain() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(Explain.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.ExplainCommand.main(args));
    }
}
