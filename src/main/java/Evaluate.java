/** Launcher: {@code mvn exec:java -Dexec.mainClass=Evaluate -Dexec.args="..."}. */
public final class Evaluate {
    private Evaluate() {
    }

    public static void main(String[] args) {
        System.exit(dev.bertclf.app.EvaluateCommand.main(args));
    }
}
