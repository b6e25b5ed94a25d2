package dev.bertclf.score;

import dev.bertclf.config.Settings;
import dev.bertclf.run.RunFolder;

/**
 * One batch-scoring job.
 *
 * @param input      a CSV file with a header row, a Parquet file, or a folder of either (any Hadoop path)
 * @param output     where the scored table goes: a folder of CSV or Parquet part files
 * @param textColumn the input column holding the texts
 * @param precision  the executors' forward passes ({@code inference.precision})
 * @param explain    how explanations are computed, when {@code settings.explainTopK() > 0}
 */
public record ScoreJob(RunFolder run, String input, String output, String textColumn,
                       Settings.BadRowPolicy badRows, Settings.ScoreSettings settings,
                       Settings.Precision precision, Settings.ExplainSettings explain) {
}
