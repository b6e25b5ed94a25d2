package dev.bertclf.app;

import dev.bertclf.io.ProgressBars;
import dev.bertclf.data.CsvDataset;
import dev.bertclf.data.LabeledText;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.model.Classifier;
import me.tongfei.progressbar.ProgressBar;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code Predict <run-folder> <input.csv> <output.csv>}: for each row, the source line, the predicted label (for a
 * multi-label run, the labels over their thresholds, joined by {@code ;}) and one probability column per label. The
 * output is written atomically.
 */
public final class PredictCommand {
    static final int BATCH = 32;

    private PredictCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Predict", args, "<run-folder> <input.csv> <output.csv>", () -> {
            Cli.OpenedRun r = Cli.OpenedRun.of(Path.of(args[0]));
            Classifier c = r.classifier();
            CsvDataset data = CsvDataset.readTexts(Path.of(args[1]), r.textColumn(), r.badRows());
            List<String> header = new ArrayList<>(List.of("line"));
            header.addAll(c.task().outputColumns());
            AtomicFiles.write(Path.of(args[2]), out -> {
                var w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
                try (CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180.builder()
                        .setHeader(header.toArray(String[]::new)).build());
                     ProgressBar bar = ProgressBars.of("Predict", data.rows().size())) {
                    List<LabeledText> rows = data.rows();
                    for (int from = 0; from < rows.size(); from += BATCH) {
                        List<LabeledText> batch = rows.subList(from, Math.min(rows.size(), from + BATCH));
                        float[][] probs = c.predict(batch.stream().map(LabeledText::text).toList());
                        for (int i = 0; i < batch.size(); i++) {
                            List<Object> rec = new ArrayList<>();
                            rec.add(batch.get(i).line());
                            rec.add(c.task().decision(probs[i]));
                            for (float v : probs[i]) {
                                rec.add(String.format(Locale.ROOT, "%.6f", v));
                            }
                            p.printRecord(rec);
                        }
                        bar.stepBy(batch.size());
                    }
                }
            });
            System.out.printf("Wrote %d predictions to %s%n", data.rows().size(), args[2]);
            return Cli.OK;
        });
    }
}
