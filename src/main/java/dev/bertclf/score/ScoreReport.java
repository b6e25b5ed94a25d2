package dev.bertclf.score;

import dev.bertclf.config.Settings;

/**
 * What a scoring job did.
 *
 * @param rowsRead rows in the input (malformed CSV records included)
 * @param skipped  bad rows left out under {@code data.bad-rows = skip}
 * @param scored   rows written, each with its label and probabilities
 */
public record ScoreReport(long rowsRead, long skipped, long scored, String output, Settings.OutputFormat format,
                          double seconds) {
    public double rowsPerSecond() {
        return scored / Math.max(seconds, 1e-9);
    }
}
