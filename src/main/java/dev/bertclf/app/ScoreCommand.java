package dev.bertclf.app;

import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.run.RunFolder;
import dev.bertclf.score.ScoreJob;
import dev.bertclf.score.ScoreReport;
import dev.bertclf.score.SparkScoring;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;

/**
 * {@code Score <run-folder> <input> <output>}: batch scoring on Apache Spark ({@code local[*]} unless
 * {@code spark.master} is set). The output holds every input column but the text, the label and {@code p_<label>}
 * for each class, and with {@code score.explain.top-k > 0} the words that weighed most in each row's label; it
 * appears only when complete.
 */
public final class ScoreCommand {
    private ScoreCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Score", args, "<run-folder> <input> <output>", () -> {
            RunFolder run = new RunFolder(Path.of(args[0]));
            run.requireServable();
            Cli.DataOptions data = Cli.DataOptions.of(run);
            // on a cluster each executor checks what the settings ask of its CPU (bf16) itself, not the driver
            Settings s = SparkScoring.executorsRunHere() ? ConfigLoader.load(null)
                    : ConfigLoader.loadForRemoteExecutors(null);
            ScoreJob job = new ScoreJob(run, args[1], args[2], data.textColumn(), data.badRows(), s.score(),
                    s.inference().precision(), s.explain());
            try (SparkSession spark = SparkScoring.session("Score " + run.id())) {
                ScoreReport r = SparkScoring.score(spark, job);
                System.out.printf("Scored %d of %d rows (%d skipped) into %s (%s) in %.1f s: %.2f rows/s%n",
                        r.scored(), r.rowsRead(), r.skipped(), r.output(),
                        r.format().name().toLowerCase(java.util.Locale.ROOT), r.seconds(), r.rowsPerSecond());
            }
            return Cli.OK;
        });
    }
}
