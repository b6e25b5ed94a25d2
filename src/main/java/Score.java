/**
 * Launcher: {@code mvn exec:java -Dexec.mainClass=Score -Dexec.args="<run-folder> <input> <output>"}, or the
 * main class of the job jar under {@code spark-submit}.
 */
public final class Score {
    private Score() {
    }

    public static void main(String[] args) {
        dev.bertclf.io.MallocSettings.relaunch(Score.class, args).ifPresent(System::exit); // not under spark-submit
        System.exit(dev.bertclf.app.ScoreCommand.main(args));
    }
}
