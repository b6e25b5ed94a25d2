/** Launcher: {@code mvn exec:java -Dexec.mainClass=Train [-Dexec.args=conf/imdb-full.conf]}. */
public final class Train {
    private Train() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(Train.class, args).ifPresent(System::exit);
        System.exit(dev.bertclf.app.TrainCommand.main(args));
    }
}
