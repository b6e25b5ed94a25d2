/** Launcher: {@code mvn exec:java -Dexec.mainClass=Evaluate -Dexec.args="..."}. */
public final class Evaluate {
    private Evaluate() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(Evaluate.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.EvaluateCommand.main(args));
    }
}
