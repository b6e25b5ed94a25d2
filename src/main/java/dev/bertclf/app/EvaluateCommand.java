package dev.bertclf.app;

import dev.bertclf.data.CsvDataset;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.RunFolder;
import dev.bertclf.train.Evaluator;

import java.nio.file.Path;
import java.util.Locale;

/** {@code Evaluate <run-folder> <labelled.csv>}: accuracy, per-class precision/recall/F1, confusion matrix. */
public final class EvaluateCommand {
    private EvaluateCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Evaluate", () -> {
            if (args.length != 2) {
                System.err.println("usage: Evaluate <run-folder> <labelled.csv>");
                return Cli.BAD_INPUT;
            }
            RunFolder run = new RunFolder(Path.of(args[0]));
            Classifier c = Classifier.load(run);
            Cli.RunData rd = Cli.RunData.of(run);
            CsvDataset data = CsvDataset.read(Path.of(args[1]), new CsvDataset.Columns(rd.textColumn(),
                    rd.labelColumn()), rd.badRows(), c.labels());
            Evaluator.Report r = Evaluator.evaluate(args[1], c.graph(), c.featurizer(), data.rows(), c.labels(), 32);
            System.out.printf(Locale.ROOT, "Model %s on %s: %d examples, accuracy %.4f, macro F1 %.4f, loss %.4f%n",
                    run.id(), args[1], r.examples(), r.accuracy(), r.macroF1(), r.loss());
            System.out.println(r.evaluation().stats(false, true));
            return Cli.OK;
        });
    }
}
