package dev.bertclf.app;

import dev.bertclf.config.Settings;
import dev.bertclf.data.CsvDataset;
import dev.bertclf.data.TrainingData;
import dev.bertclf.model.Classifier;
import dev.bertclf.train.Evaluator;

import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code Evaluate <run-folder> <labelled.csv>}: accuracy, per-class precision/recall/F1, confusion matrix; for a
 * multi-label run, with its saved thresholds: micro, macro and weighted F1, subset accuracy, Hamming loss and each
 * label's scores. The file's labels are read as the run read its training file.
 */
public final class EvaluateCommand {
    private EvaluateCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Evaluate", args, "<run-folder> <labelled.csv>", () -> {
            Cli.OpenedRun r = Cli.OpenedRun.of(Path.of(args[0]));
            Classifier c = r.classifier();
            Settings.DataSettings columns = r.run().settings().data().withColumns(r.textColumn(), r.labelColumn(),
                    r.badRows());
            CsvDataset data = TrainingData.read(columns, c.task().kind(), Path.of(args[1]), c.labels());
            Evaluator.Report e = Evaluator.evaluate(args[1], c, data.rows(), 32);
            System.out.printf(Locale.ROOT, "Model %s on %s: %d examples, %s %.4f, macro F1 %.4f, loss %.4f%n",
                    r.run().id(), args[1], e.examples(), c.task().multiLabel() ? "subset accuracy" : "accuracy",
                    e.accuracy(), e.macroF1(), e.loss());
            System.out.println(e.stats());
            return Cli.OK;
        });
    }
}
