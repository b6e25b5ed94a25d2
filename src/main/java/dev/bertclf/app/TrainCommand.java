package dev.bertclf.app;



/** {@code Train [experiment.conf]}: fine-tunes, evaluates and saves a run folder. */
public final class TrainCommand {
    private TrainCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Train", args, "[experiment.conf]", () -> {
            TrainingApp.Result r = TrainingApp.run(Cli.settings(args));
            System.out.printf("Run folder: %s%nTest accuracy: %.4f on %d examples%n", r.run().dir().toAbsolutePath(),
                    r.test().accuracy(), r.test().examples());
            return Cli.OK;
        });
    }
}
