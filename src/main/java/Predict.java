/** Launcher: {@code mvn exec:java -Dexec.mainClass=Predict -Dexec.args="..."}. */
public final class Predict {
    private Predict() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(Predict.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.PredictCommand.main(args));
    }
}
