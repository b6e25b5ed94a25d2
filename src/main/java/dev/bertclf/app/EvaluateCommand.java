package dev.bertclf.app;

import dev.bertclf.data.CsvDataset;
import dev.bertclf.model.Classifier;
import dev.bertclf.train.Evaluator;

import java.nio.file.Path;
import java.util.Locale;

/** {@code Evaluate <run-folder> <labelled.csv>}: accuracy, per-class precision/recall/F1, confusion matrix. */
public final class EvaluateCommand {
    private EvaluateCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Evaluate", args, "<run-folder> <labelled.csv>", () -> {
            Cli.OpenedRun r = Cli.OpenedRun.of(Path.of(args[0]));
            Classifier c = r.classifier();
            CsvDataset data = CsvDataset.read(Path.of(args[1]), new CsvDataset.Columns(r.textColumn(),
                    r.labelColumn()), r.badRows(), c.labels());
            Evaluator.Report e = Evaluator.evaluate(args[1], c, data.rows(), 32);
            System.out.printf(Locale.ROOT, "Model %s on %s: %d examples, accuracy %.4f, macro F1 %.4f, loss %.4f%n",
                    r.run().id(), args[1], e.examples(), e.accuracy(), e.macroF1(), e.loss());
            System.out.println(e.evaluation().stats(false, true));
            return Cli.OK;
        });
    }
}
