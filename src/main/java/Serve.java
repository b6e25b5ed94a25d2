/** Launcher: {@code mvn exec:java -Dexec.mainClass=Serve} serves the newest run folder on 127.0.0.1:4445. */
public final class Serve {
    private Serve() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(Serve.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.ServeCommand.main(args));
    }
}
