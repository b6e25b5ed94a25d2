package dev.bertclf.app;

import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.TrainingData;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.SavedGraphs;
import dev.bertclf.model.Task;
import dev.bertclf.run.RunFolder;
import dev.bertclf.train.CheckpointRestore;
import dev.bertclf.train.ClassWeights;
import dev.bertclf.train.Evaluator;
import dev.bertclf.train.Thresholds;
import dev.bertclf.train.TrainableClassifier;
import dev.bertclf.train.Trainer;
import dev.bertclf.train.TrainingReport;
import dev.bertclf.train.TrainingState;
import org.nd4j.autodiff.samediff.SameDiff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Properties;

/**
 * The main job, as named steps: load data, build the model, open the run (new or resumed), fit, evaluate the
 * saved model, write the metrics. Everything lands in a self-describing run folder.
 */
public final class TrainingApp {
    private static final Logger log = LoggerFactory.getLogger(TrainingApp.class);

    /** What a run produced; {@code model} is the evaluated graph (the saved one). */
    public record Result(RunFolder run, Evaluator.Report test, TrainingState state, SameDiff model) {
    }

    /**
     * The pretrained graph with its classifier head, and how text becomes its input: in training and validation
     * ({@code featurizer}), and in the test evaluation and later use ({@code inference}, at
     * {@code features.inference-max-length}).
     */
    private record Model(TrainableClassifier trainable, Featurizer featurizer, Featurizer inference,
                         float[] classWeights) {
        ModelDescriptor descriptor() {
            return trainable.descriptor();
        }

        SameDiff sd() {
            return trainable.sd();
        }
    }

    private TrainingApp() {
    }

    public static Result run(Settings given) {
        Settings s = effective(given);
        log.info("Configuration:\n{}", s.render());
        long start = System.nanoTime();
        TrainingData data = TrainingData.load(s.data(), s.model().task());
        Model model = buildModel(s, data);
        RunFolder run = openRun(s, data, model);
        try (RunFolder.Lock ignored = run.lock()) {
            TrainingState state = fit(s, data, model, run);
            SameDiff saved = savedModel(s, run, model, state);
            Task task = decide(s, data, model, run, saved);
            Evaluator.Report test;
            try (Classifier c = new Classifier(saved, model.inference(), task, s.inference().precision())) {
                test = Evaluator.evaluate("test", c, data.test(), s.train().evalBatchSize());
            }
            log.info("TEST {} {} on {} examples of {} (macro F1 {}; inputs of up to {} word pieces)",
                    task.multiLabel() ? "subset accuracy" : "accuracy", String.format("%.4f", test.accuracy()),
                    test.examples(), s.data().test(), String.format("%.4f", test.macroF1()),
                    s.features().inferenceMaxLength());
            writeMetrics(s, data, model, run, state, test, (System.nanoTime() - start) / 1e9);
            return new Result(run, test, state, saved);
        }
    }

    /**
     * The settings to run: those given, or, for {@code train.resume}, those saved in the run folder (with
     * {@code -D} overrides and the resume path itself on top).
     */
    public static Settings effective(Settings given) {
        Path resume = given.train().resume();
        if (resume == null) {
            return given;
        }
        Properties p = new Properties();
        p.putAll(System.getProperties());
        p.setProperty(ConfigLoader.ROOT + ".train.resume", resume.toString());
        log.info("Resuming {}: its saved settings apply, with -D overrides that do not change what it computes",
                resume);
        return ConfigLoader.loadForResume(resume.resolve(RunFolder.CONFIG), p);
    }

    /** The pretrained BERT (from the model cache) with the classifier head for the data's labels. */
    private static Model buildModel(Settings s, TrainingData data) {
        float[] classWeights = s.model().task() == Settings.Task.MULTI_LABEL
                ? ClassWeights.positiveWeights(s.train().classWeights(), data.labels(), data.train())
                : ClassWeights.of(s.train().classWeights(), data.labels(), data.train());
        if (classWeights != null) {
            log.info("Class weights in the loss: {}", ClassWeights.byLabel(classWeights, data.labels()));
        }
        TrainableClassifier trainable = TrainableClassifier.build(s, data.labels().size(), classWeights);
        Featurizer featurizer = trainable.featurizer();
        Featurizer inference = s.features().inferenceMaxLength() == s.features().maxLength() ? featurizer
                : trainable.inferenceFeaturizer();
        return new Model(trainable, featurizer, inference, classWeights);
    }

    /**
     * The run folder: for {@code train.resume} the given one (trained on the same labels), else a new one holding
     * what inference will need (config, labels, vocabulary, base-model descriptor).
     */
    private static RunFolder openRun(Settings s, TrainingData data, Model model) {
        RunFolder run;
        if (s.train().resume() != null) {
            run = new RunFolder(s.train().resume());
            if (!run.labels().equals(data.labels())) {
                throw new IllegalStateException("Run " + run.dir() + " was trained on labels " + run.labels()
                        + " but the data now has " + data.labels());
            }
        } else {
            run = RunFolder.create(s.train().runsDir(), s.experiment());
            run.writeString(RunFolder.CONFIG, s.render() + "\n");
            run.writeLabels(data.labels());
            run.copy(model.trainable().vocab(), RunFolder.VOCAB);
            run.writeString(RunFolder.BASE_MODEL, model.descriptor().text());
        }
        log.info("Run folder: {}", run.dir().toAbsolutePath());
        return run;
    }

    /** Trains to the end: from the start, or from the run's last checkpoint (weights and optimizer state). */
    private static TrainingState fit(Settings s, TrainingData data, Model model, RunFolder run) {
        Path checkpoint = s.train().resume() == null ? null : TrainingState.checkpointOf(run);
        TrainingState from = checkpoint == null ? TrainingState.start() : TrainingState.load(checkpoint);
        int perEpoch = Trainer.stepsPerEpoch(data.train().size(), s.train().batchSize());
        // the schedule continues at the checkpoint's step
        model.trainable().configure(perEpoch * s.train().epochs(), from.globalStep(), from.epoch());
        if (checkpoint != null) {
            CheckpointRestore.restore(model.sd(), checkpoint);
            log.info("Resuming {} at epoch {}, step {}", run.dir(), from.epoch() + 1, from.globalStep());
        }
        TrainingState state = new Trainer(s, model.trainable(), model.featurizer(), data.labels(), data.train(),
                data.validation(), run, from).fit();
        TrainingReport.writeSteps(run, state);
        TrainingReport.writeEpochs(run, state);
        TrainingReport.writeChart(run, state, perEpoch);
        return state;
    }

    /**
     * The model the run keeps: the best epoch's weights under keep-best (reloaded when not the last), else the last.
     */
    private static SameDiff savedModel(Settings s, RunFolder run, Model model, TrainingState state) {
        int lastEpoch = state.epochs().isEmpty() ? 0 : state.epochs().get(state.epochs().size() - 1).epoch();
        boolean earlierBest = state.bestEpoch() > 0 && state.bestEpoch() != lastEpoch && s.train().keepBest();
        return earlierBest ? SavedGraphs.load(run.file(RunFolder.MODEL)) : model.sd();
    }

    /**
     * How the saved model decides. Multi-label: the thresholds, tuned on the validation split (never on the test file)
     * when {@code model.threshold = tuned}, read at the inference length; saved in thresholds.json, before the test.
     */
    private static Task decide(Settings s, TrainingData data, Model model, RunFolder run, SameDiff saved) {
        Task provisional = model.trainable().task(data.labels());
        if (!provisional.multiLabel()) {
            return provisional;
        }
        Task task = provisional;
        String chosenOn = "model.threshold = " + s.model().threshold().value();
        if (s.model().threshold().tuned() && !data.validation().isEmpty()) {
            try (Classifier c = new Classifier(saved, model.inference(), provisional, s.inference().precision())) {
                task = Thresholds.decide(s.model().threshold(), provisional,
                        Evaluator.scores("validation", c, data.validation(), s.train().evalBatchSize()));
            }
            chosenOn = "tuned per label on the validation split (" + data.validation().size() + " texts of "
                    + s.data().train() + ")";
        }
        run.writeTask(task, chosenOn);
        log.info("Thresholds ({}): {}", chosenOn, task.thresholdsByLabel());
        return task;
    }

    /** Evaluation report, then metrics.json (last: it marks the run complete), then the checkpoint goes. */
    private static void writeMetrics(Settings s, TrainingData data, Model model, RunFolder run, TrainingState state,
                                     Evaluator.Report test, double wallSeconds) {
        TrainingReport.writeEvaluation(run, test, s.data().test().toString());
        TrainingReport.writeLabelChart(run, test);
        TrainingReport.writeMetrics(run, s.experiment(), model.descriptor().name(), data,
                ClassWeights.byLabel(model.classWeights(), data.labels()), state, test, wallSeconds);
        AtomicFiles.deleteRecursively(run.file(RunFolder.CHECKPOINT));
        log.info("Run complete: {}", run.dir().toAbsolutePath());
    }
}
