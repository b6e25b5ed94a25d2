/**
 * Launcher: {@code mvn exec:java -Dexec.mainClass=Score -Dexec.args="<run-folder> <input> <output>"}, or the
 * main class of the job jar under {@code spark-submit}.
 */
public final class Score {
    private Score() {
    }

    public static void main(String[] args) {
        System.exit(dev.bertclf.app.ScoreCommand.main(args));
    }
}
