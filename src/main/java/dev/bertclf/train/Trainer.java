package dev.bertclf.train;

import dev.bertclf.io.ProgressBars;
import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.Splits;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.GraphNames;
import dev.bertclf.model.SavedGraphs;
import dev.bertclf.run.RunFolder;
import me.tongfei.progressbar.ProgressBar;
import org.deeplearning4j.iterator.BertIterator;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.schedule.ISchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;

/**
 * Fine-tunes a classifier graph with SameDiff's fit, one epoch at a time: progress bar and log lines per step,
 * a checkpoint every N steps, validation after each epoch, early stopping and keep-best.
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);

    private final Settings settings;
    private final TrainableClassifier model;
    private final SameDiff sd;
    private final Featurizer featurizer;
    private final List<String> labels;
    private final List<LabeledText> train;
    private final List<LabeledText> validation;
    private final RunFolder run;
    private TrainingState state;

    public Trainer(Settings settings, TrainableClassifier model, Featurizer featurizer, List<String> labels,
                   List<LabeledText> train, List<LabeledText> validation, RunFolder run, TrainingState state) {
        this.settings = settings;
        this.model = model;
        this.sd = model.sd();
        this.featurizer = featurizer;
        this.labels = labels;
        this.train = train;
        this.validation = validation;
        this.run = run;
        this.state = state;
    }

    public static int stepsPerEpoch(int examples, int batchSize) {
        return (examples + batchSize - 1) / batchSize;
    }

    /** Trains until the last epoch or early stopping; returns the final state. */
    public TrainingState fit() {
        Settings.TrainSettings t = settings.train();
        for (int epoch = state.epoch(); epoch < t.epochs(); epoch++) {
            long epochStart = System.nanoTime();
            fitEpoch(epoch);
            double trainLoss = meanLoss(epoch);
            TrainingState.EpochSummary summary = validate(epoch, trainLoss, (System.nanoTime() - epochStart) / 1e9);
            state.epochs().add(summary);
            boolean stop = updateBest(epoch, summary);
            state = state.withPosition(epoch + 1, 0, state.globalStep());
            if (t.checkpointEvery() > 0 && epoch + 1 < t.epochs() && !stop) {
                state.save(sd, run);
            }
            if (stop) {
                log.info("Early stopping after epoch {}: no improvement of validation {} for {} epochs", epoch + 1,
                        Settings.nameOf(t.metric()), state.badEpochs());
                break;
            }
        }
        if (!t.keepBest() || validation.isEmpty()) {
            saveModel();
        }
        return state;
    }

    /** One pass over the shuffled training data; a resumed epoch skips the batches its checkpoint had done. */
    private void fitEpoch(int epoch) {
        Settings.TrainSettings t = settings.train();
        int perEpoch = stepsPerEpoch(train.size(), t.batchSize());
        BertIterator it = model.batches(featurizer, Splits.shuffled(train, t.seed() + epoch), labels, epoch);
        int skip = epoch == state.epoch() ? state.batchesDone() : 0;
        for (int i = 0; i < skip && it.hasNext(); i++) {
            it.next();
        }
        if (skip > 0) {
            log.info("Resuming epoch {} after batch {} (step {})", epoch + 1, skip, state.globalStep());
        }
        state = state.withPosition(epoch, skip, state.globalStep());
        try (ProgressBar bar = ProgressBars.of("Epoch " + (epoch + 1) + "/" + t.epochs(), perEpoch)) {
            bar.stepTo(skip);
            if (it.hasNext()) {
                model.fit(it, new StepTimer((seconds, data, loss) -> onStep(bar, epoch, perEpoch * t.epochs(),
                        seconds, data, loss)));
            }
        }
    }

    private double meanLoss(int epoch) {
        return state.steps().stream().filter(s -> s.epoch() == epoch + 1).mapToDouble(TrainingState.Step::loss)
                .average().orElse(Double.NaN);
    }

    private TrainingState.EpochSummary validate(int epoch, double trainLoss, double seconds) {
        if (validation.isEmpty()) {
            log.info("Epoch {}: train loss {}", epoch + 1, fmt(trainLoss));
            return new TrainingState.EpochSummary(epoch + 1, trainLoss, Double.NaN, Double.NaN, Double.NaN, seconds);
        }
        Evaluator.Report r;
        try (Classifier c = new Classifier(sd, featurizer, model.task(labels), settings.inference().precision())) {
            r = Evaluator.evaluate("validation", c, validation, settings.train().evalBatchSize());
        }
        // tuned thresholds are judged at their best on this split, as the run will use them
        r = r.decidedBy(Thresholds.decide(settings.model().threshold(), r.task(), r.scores()));
        log.info("Epoch {}: train loss {}, validation loss {}, {} {}, macro F1 {}", epoch + 1, fmt(trainLoss),
                fmt(r.loss()), r.multiLabel() != null ? "subset accuracy" : "accuracy", fmt(r.accuracy()),
                fmt(r.macroF1()));
        return new TrainingState.EpochSummary(epoch + 1, trainLoss, r.loss(), r.accuracy(), r.macroF1(), seconds);
    }

    /** Records the epoch's metric; saves the model when it is the best so far. Returns true to stop early. */
    private boolean updateBest(int epoch, TrainingState.EpochSummary s) {
        if (validation.isEmpty()) {
            return false;
        }
        Settings.Metric metric = settings.train().metric();
        double value = switch (metric) {
            case LOSS -> s.validationLoss();
            case F1 -> s.validationF1();
            case ACCURACY -> s.validationAccuracy();
        };
        boolean improved = Double.isNaN(state.bestMetric())
                || (metric.lowerIsBetter() ? value < state.bestMetric() : value > state.bestMetric());
        if (improved) {
            state = state.withBest(value, epoch + 1, 0);
            if (settings.train().keepBest()) {
                saveModel();
                log.info("Best validation {} so far ({}): model saved", Settings.nameOf(metric), fmt(value));
            }
        } else {
            state = state.withBest(state.bestMetric(), state.bestEpoch(), state.badEpochs() + 1);
        }
        int patience = settings.train().patience();
        return patience > 0 && state.badEpochs() >= patience;
    }

    /**
     * Saves the classifier graph into the run folder, atomically, without optimizer state or training config: the
     * saved model then names none of the project's training classes (its schedule, weight decay and loss keeper
     * would be stored by class name), so inference needs none of them and renaming them never breaks a model.
     */
    void saveModel() {
        TrainingConfig tc = sd.getTrainingConfig();
        sd.setTrainingConfig(null);
        try {
            SavedGraphs.save(sd, run.file(RunFolder.MODEL));
        } finally {
            sd.setTrainingConfig(tc);
        }
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.4f", x);
    }

    /**
     * Per-step book-keeping: loss, speed, progress, log and checkpoints. The graph SameDiff hands to listeners may
     * be its internal gradient instance: checkpoints save {@link #sd}, the model.
     */
    private void onStep(ProgressBar bar, int epoch, int total, double seconds, MultiDataSet data, Loss loss) {
        long examples = data.getFeatures(0).size(0);
        double value = loss.getLoss(GraphNames.LOSS);
        TrainingConfig tc = sd.getTrainingConfig();
        ISchedule lr = tc.getUpdater() instanceof org.nd4j.linalg.learning.config.Adam a
                ? a.getLearningRateSchedule() : null;
        int step = state.globalStep() + 1;
        double rate = lr == null ? Double.NaN : lr.valueAt(step - 1, epoch);
        state.steps().add(new TrainingState.Step(step, epoch + 1, value, rate, examples / seconds));
        state = state.withPosition(epoch, state.batchesDone() + 1, step);
        bar.step();
        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f | %.2f ex/s", value, examples / seconds));
        if (step % settings.train().logEvery() == 0 || step == total) {
            log.info("step {}/{} epoch {} loss {} lr {} {} ex/s", step, total, epoch + 1, fmt(value),
                    String.format(Locale.ROOT, "%.3g", rate), String.format(Locale.ROOT, "%.2f", examples / seconds));
        }
        int every = settings.train().checkpointEvery();
        if (every > 0 && step % every == 0 && step < total) {
            long start = System.nanoTime();
            state.save(sd, run);
            TrainingReport.writeSteps(run, state);
            log.info("Checkpoint at step {} written in {} s", step,
                    String.format(Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e9));
        }
    }
}
