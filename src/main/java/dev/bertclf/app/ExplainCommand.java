package dev.bertclf.app;

import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.CsvDataset;
import dev.bertclf.data.LabeledText;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.io.ProgressBars;
import dev.bertclf.model.Explainer;
import dev.bertclf.run.RunFolder;
import me.tongfei.progressbar.ProgressBar;

import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code Explain <run-folder> <input.csv> <output.html>}: for each row, the label the classifier chose (each label
 * over its threshold, for a multi-label run) and every word's attribution to it by integrated gradients: a
 * self-contained HTML report (one highlighted row per text) and, beside it, a JSON lines file of the same name
 * ending in {@code .jsonl} (one object per row: its line, probabilities and explanations). Both are written
 * atomically, once every row is explained.
 */
public final class ExplainCommand {
    private ExplainCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Explain", args, "<run-folder> <input.csv> <output.html>", () -> {
            RunFolder run = new RunFolder(Path.of(args[0]));
            Cli.DataOptions options = Cli.DataOptions.of(run);
            CsvDataset data = CsvDataset.readTexts(Path.of(args[1]), options.textColumn(), options.badRows());
            Settings machine = ConfigLoader.load(null);
            Path html = Path.of(args[2]);
            Path jsonl = jsonLinesBeside(html);
            List<String> lines = new ArrayList<>();
            StringBuilder report = new StringBuilder(ExplainReport.header("Explanations: " + run.id()));
            try (Explainer explainer = run.explainer(machine.inference().precision(), machine.explain());
                 ProgressBar bar = ProgressBars.of("Explain", data.rows().size())) {
                for (LabeledText row : data.rows()) {
                    Explainer.Explained e = explainer.explain(row.text());
                    Map<String, Object> m = new java.util.LinkedHashMap<>();
                    m.put("line", row.line());
                    m.putAll(e.toMap(explainer.task().labels()));
                    lines.add(ExplainReport.jsonLine(m));
                    report.append(ExplainReport.row(row.line(), row.text(), e));
                    bar.step();
                }
            }
            report.append(ExplainReport.footer());
            AtomicFiles.write(jsonl, out -> {
                Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
                for (String l : lines) {
                    w.write(l);
                    w.write('\n');
                }
                w.flush();
            });
            AtomicFiles.writeString(html, report.toString());
            System.out.printf("Wrote %d explanations to %s and %s%n", lines.size(), html, jsonl);
            return Cli.OK;
        });
    }

    /** {@code report.html} → {@code report.jsonl}, in the same folder. */
    static Path jsonLinesBeside(Path html) {
        String name = html.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return html.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".jsonl");
    }
}
