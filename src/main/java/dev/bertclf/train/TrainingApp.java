package dev.bertclf.train;

import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.TrainingData;
import dev.bertclf.model.ClassifierHead;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.PretrainedBert;
import dev.bertclf.model.RunFolder;
import dev.bertclf.model.Classifier;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The main job: data → model → training config → fit → evaluate → save, into a self-describing run folder.
 */
public final class TrainingApp {
    private static final Logger log = LoggerFactory.getLogger(TrainingApp.class);

    /** What a run produced; {@code model} is the evaluated graph (the saved one). */
    public record Result(RunFolder run, Evaluator.Report test, TrainingState state, SameDiff model) {
    }

    private TrainingApp() {
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
        java.util.Properties p = new java.util.Properties();
        p.putAll(System.getProperties());
        p.setProperty(ConfigLoader.ROOT + ".train.resume", resume.toString());
        return ConfigLoader.loadForResume(resume.resolve(RunFolder.CONFIG), p);
    }

    public static Result run(Settings given) {
        Settings s = effective(given);
        log.info("Configuration:\n{}", s.render());
        long start = System.nanoTime();

        // 1. data
        TrainingData data = TrainingData.load(s.data());

        // 2. model
        ModelDescriptor descriptor = ModelDescriptor.load(s.model().descriptorFile());
        PretrainedBert.Loaded bert = PretrainedBert.load(descriptor, s.model().cacheDir());
        Featurizer featurizer = new Featurizer(bert.vocab(), descriptor.lowerCase(),
                Classifier.featurizerSettings(s.features()));
        int totalSteps = Trainer.stepsPerEpoch(data.train().size(), s.train().batchSize()) * s.train().epochs();
        RunFolder run;
        SameDiff sd;
        TrainingState state;
        boolean dropout = s.model().dropout() > 0;
        sd = bert.sd();
        ClassifierHead.attach(sd, descriptor, data.labels().size(), s.model().encoderLayers(),
                s.model().frozenLayers(), s.model().dropout(), s.train().seed());
        if (s.train().resume() != null) {
            run = new RunFolder(s.train().resume());
            checkLabels(run, data.labels());
            Path checkpoint = TrainingState.checkpointOf(run);
            state = TrainingState.load(checkpoint);
            CheckpointRestore.restore(sd, checkpoint.resolve(TrainingState.MODEL));
            log.info("Resuming {} at epoch {}, step {}", run.dir(), state.epoch() + 1, state.globalStep());
        } else {
            run = RunFolder.create(s.train().runsDir(), s.experiment());
            state = TrainingState.start();
            run.writeString(RunFolder.CONFIG, s.render() + "\n");
            run.writeLabels(data.labels());
            run.copy(bert.vocab(), RunFolder.VOCAB);
            run.writeString(RunFolder.BASE_MODEL, descriptor.text());
        }
        log.info("Run folder: {}", run.dir().toAbsolutePath());
        try (RunFolder.Lock ignored = run.lock()) {
            return fitEvaluateSave(s, data, descriptor, featurizer, sd, run, state, totalSteps, dropout, start);
        }
    }

    private static Result fitEvaluateSave(Settings s, TrainingData data, ModelDescriptor descriptor,
                                          Featurizer featurizer, SameDiff sd, RunFolder run, TrainingState state,
                                          int totalSteps, boolean dropout, long start) {

        // 3. training config (a resumed graph keeps its optimizer state; the schedule continues at its step)
        TrainingConfig tc = TrainingSetup.config(s.train(), totalSteps, dropout);
        tc.setIterationCount(state.globalStep());
        tc.setEpochCount(state.epoch());
        sd.setTrainingConfig(tc);

        // 4. fit
        Trainer trainer = new Trainer(s, sd, featurizer, data.labels(), data.train(), data.validation(), run,
                descriptor.hiddenSize(), state);
        state = trainer.fit();
        TrainingReport.writeSteps(run, state);
        TrainingReport.writeEpochs(run, state);
        TrainingReport.writeChart(run, state, Trainer.stepsPerEpoch(data.train().size(), s.train().batchSize()));

        // 5. evaluate (the saved model: the best epoch's weights under keep-best)
        int lastEpoch = state.epochs().isEmpty() ? 0 : state.epochs().get(state.epochs().size() - 1).epoch();
        SameDiff best = state.bestEpoch() > 0 && state.bestEpoch() != lastEpoch && s.train().keepBest()
                ? SameDiff.load(run.file(RunFolder.MODEL).toFile(), false) : sd;
        Evaluator.Report test = Evaluator.evaluate("test", best, featurizer, data.test(), data.labels(),
                s.train().evalBatchSize());
        log.info("TEST accuracy {} on {} examples of {} (macro F1 {})", String.format("%.4f", test.accuracy()),
                test.examples(), s.data().test(), String.format("%.4f", test.macroF1()));

        // 6. save: report, metrics (last: marks the run complete), then drop the checkpoint
        TrainingReport.writeEvaluation(run, test, s.data().test().toString());
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("run", run.id());
        metrics.put("experiment", s.experiment());
        metrics.put("base_model", descriptor.name());
        metrics.put("labels", data.labels());
        metrics.put("train_examples", data.train().size());
        metrics.put("validation_examples", data.validation().size());
        metrics.put("steps", state.globalStep());
        metrics.put("epochs", state.epochs());
        metrics.put("best_epoch", state.bestEpoch());
        metrics.put("skipped_rows", data.skipped());
        metrics.put("test", test.toMap(data.labels()));
        metrics.put("wall_seconds", (System.nanoTime() - start) / 1e9);
        metrics.put("created", java.time.OffsetDateTime.now().toString());
        run.writeJson(RunFolder.METRICS, metrics);
        dev.bertclf.io.AtomicFiles.deleteRecursively(run.file(RunFolder.CHECKPOINT));
        log.info("Run complete: {}", run.dir().toAbsolutePath());
        return new Result(run, test, state, best);
    }

    private static void checkLabels(RunFolder run, List<String> labels) {
        if (!run.labels().equals(labels)) {
            throw new IllegalStateException("Run " + run.dir() + " was trained on labels " + run.labels()
                    + " but the data now has " + labels);
        }
    }
}
