package dev.bertclf.train;

import dev.bertclf.data.TrainingData;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.model.CpuReport;
import dev.bertclf.run.RunFolder;
import dev.bertclf.config.Settings;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Writes the curves of a run: per-step and per-epoch CSV files and a PNG chart. */
public final class TrainingReport {
    private TrainingReport() {
    }

    public static void writeSteps(RunFolder run, TrainingState state) {
        StringBuilder s = new StringBuilder("step,epoch,loss,learning_rate,examples_per_second\n");
        for (TrainingState.Step st : state.steps()) {
            s.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6g,%.3f%n", st.step(), st.epoch(), st.loss(),
                    st.learningRate(), st.examplesPerSecond()));
        }
        run.writeString(RunFolder.STEPS, s.toString());
    }

    public static void writeEpochs(RunFolder run, TrainingState state) {
        StringBuilder s = new StringBuilder(
                "epoch,train_loss,validation_loss,validation_accuracy,validation_macro_f1,seconds\n");
        for (TrainingState.EpochSummary e : state.epochs()) {
            s.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6f,%.1f%n", e.epoch(), e.trainLoss(),
                    e.validationLoss(), e.validationAccuracy(), e.validationF1(), e.seconds()));
        }
        run.writeString(RunFolder.EPOCHS, s.toString());
    }

    /** Training loss per step (and its moving average), validation loss and accuracy per epoch. */
    public static void writeChart(RunFolder run, TrainingState state, int stepsPerEpoch) {
        XYChart chart = new XYChartBuilder().width(900).height(500).title("Training curves")
                .xAxisTitle("step").yAxisTitle("loss / accuracy").build();
        chart.getStyler().setMarkerSize(6);
        List<Double> x = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
        List<Double> smooth = new ArrayList<>();
        double avg = Double.NaN;
        for (TrainingState.Step s : state.steps()) {
            x.add((double) s.step());
            loss.add(s.loss());
            avg = Double.isNaN(avg) ? s.loss() : 0.9 * avg + 0.1 * s.loss();
            smooth.add(avg);
        }
        if (!x.isEmpty()) {
            chart.addSeries("train loss", x, loss).setMarker(SeriesMarkers.NONE);
            chart.addSeries("train loss (moving average)", x, smooth).setMarker(SeriesMarkers.NONE);
        }
        List<Double> ex = new ArrayList<>();
        List<Double> vl = new ArrayList<>();
        List<Double> va = new ArrayList<>();
        for (TrainingState.EpochSummary e : state.epochs()) {
            if (!Double.isNaN(e.validationAccuracy())) {
                ex.add((double) e.epoch() * stepsPerEpoch);
                vl.add(e.validationLoss());
                va.add(e.validationAccuracy());
            }
        }
        if (!ex.isEmpty()) {
            chart.addSeries("validation loss", ex, vl).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            chart.addSeries("validation accuracy", ex, va)
                    .setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        if (x.isEmpty() && ex.isEmpty()) {
            return;
        }
        AtomicFiles.write(run.file(RunFolder.CHART),
                out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /**
     * {@code metrics.json}: what was trained on what, the epochs, and the test evaluation. Written last by a run:
     * a run folder with it is complete.
     */
    public static void writeMetrics(RunFolder run, String experiment, String baseModel, TrainingData data,
                                    Map<String, Double> classWeights, TrainingState state, Evaluator.Report test,
                                    double wallSeconds) {
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("run", run.id());
        metrics.put("experiment", experiment);
        metrics.put("base_model", baseModel);
        metrics.put("task", Settings.nameOf(test.task().kind()));
        metrics.put("labels", data.labels());
        metrics.put("train_examples", data.train().size());
        metrics.put("validation_examples", data.validation().size());
        metrics.put("class_weights", classWeights);
        metrics.put("steps", state.globalStep());
        metrics.put("epochs", state.epochs());
        metrics.put("best_epoch", state.bestEpoch());
        metrics.put("skipped_rows", data.skipped());
        metrics.put("test", test.toMap(data.labels()));
        metrics.put("wall_seconds", wallSeconds);
        metrics.put("cpu", CpuReport.current().toMap());
        metrics.put("created", OffsetDateTime.now().toString());
        run.writeJson(RunFolder.METRICS, metrics);
    }

    /** A bar chart of each label's F1 in a test evaluation ({@link RunFolder#LABEL_CHART}), labels by support. */
    public static void writeLabelChart(RunFolder run, Evaluator.Report test) {
        List<String> names = new ArrayList<>();
        List<Double> f1 = new ArrayList<>();
        if (test.multiLabel() != null) {
            test.multiLabel().perLabel().stream()
                    .sorted(Comparator.comparingInt(MultiLabelMetrics.Label::support).reversed())
                    .forEach(l -> {
                        names.add(l.name() + " (" + l.support() + ")");
                        f1.add(l.f1());
                    });
        } else {
            for (int c = 0; c < test.task().labels().size(); c++) {
                names.add(test.task().labels().get(c));
                f1.add(test.evaluation().f1(c));
            }
        }
        if (names.isEmpty()) {
            return;
        }
        CategoryChart chart = new CategoryChartBuilder().width(Math.max(600, 40 * names.size() + 200)).height(500)
                .title(String.format(Locale.ROOT, "F1 per label on the test file (macro F1 %.3f); support in brackets",
                        test.macroF1()))
                .xAxisTitle("label").yAxisTitle("F1").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLabelRotation(60);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.addSeries("F1", names, f1);
        AtomicFiles.write(run.file(RunFolder.LABEL_CHART),
                out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /** The plain-text evaluation report: DL4J's stats plus a header. */
    public static void writeEvaluation(RunFolder run, Evaluator.Report r, String dataFile) {
        String text = "Evaluation on " + r.examples() + " examples of " + dataFile + "\n"
                + String.format(Locale.ROOT, "%s %.4f, macro F1 %.4f, loss %.4f%n",
                r.multiLabel() != null ? "subset accuracy" : "accuracy", r.accuracy(), r.macroF1(), r.loss())
                + r.stats() + "\n";
        AtomicFiles.write(run.file(RunFolder.EVALUATION), out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }
}
