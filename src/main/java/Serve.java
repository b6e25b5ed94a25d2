/** Launcher: {@code mvn exec:java -Dexec.mainClass=Serve} serves the newest run folder on 127.0.0.1:4445. */
public final class Serve {
    private Serve() {
    }

    public static void main(String[] args) {
        System.exit(dev.bertclf.app.ServeCommand.main(args));
    }
}
