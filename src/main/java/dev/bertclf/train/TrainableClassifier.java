package dev.bertclf.train;

import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.CacheBuildJvm;
import dev.bertclf.model.JvmSetup;
import dev.bertclf.model.ClassifierHead;
import dev.bertclf.model.MavenArtifacts;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.PretrainedBert;
import dev.bertclf.model.Task;
import dev.bertclf.nd4jfix.Engine;
import org.deeplearning4j.iterator.BertIterator;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one training set-up, for {@code Train} and for the training benchmark alike, so that the benchmark measures the
 * product's path by construction: the pretrained BERT from the model cache (built in a JVM of its own the first time),
 * the classifier head for the labels, the training configuration for the run's steps, batches with the run's dropout
 * masks, and {@code fit} with the engine's listeners.
 */
public final class TrainableClassifier {
    private final Settings settings;
    private final ModelDescriptor descriptor;
    private final Path vocab;
    private final SameDiff sd;

    private TrainableClassifier(Settings settings, ModelDescriptor descriptor, Path vocab, SameDiff sd) {
        this.settings = settings;
        this.descriptor = descriptor;
        this.vocab = vocab;
        this.sd = sd;
    }

    /** The pretrained model of {@code s.model()} with a head for {@code labels} classes, not yet configured. */
    public static TrainableClassifier build(Settings s, int labels) {
        return build(s, labels, null);
    }

    /**
     * The same, its loss weighted by class ({@code classWeights}, one per label; for multi-label, each label's
     * positive weight; null = unweighted), for the task of {@code s.model().task()}.
     */
    public static TrainableClassifier build(Settings s, int labels, float[] classWeights) {
        JvmSetup.useKernels(s.engine().kernels());
        ModelDescriptor descriptor = ModelDescriptor.load(s.model().descriptorFile());
        MavenArtifacts.Repositories repos = MavenArtifacts.Repositories.of(s.model());
        CacheBuildJvm.ensureBuilt(s.model().descriptorFile(), s.model().cacheDir(), repos);
        PretrainedBert.Loaded bert = PretrainedBert.load(descriptor, s.model().cacheDir(), repos);
        ClassifierHead.attach(bert.sd(), descriptor, s.model().task(), labels, s.model().encoderLayers(),
                s.model().frozenLayers(), s.model().dropout(), s.train().seed(), classWeights);
        return new TrainableClassifier(s, descriptor, bert.vocab(), bert.sd());
    }

    /**
     * Sets the training configuration for {@code totalSteps} steps, its schedule continuing at {@code globalStep} of
     * {@code epoch} (a resumed run's checkpoint; 0 and 0 for a new one).
     */
    public void configure(int totalSteps, int globalStep, int epoch) {
        TrainingConfig tc = TrainingSetup.config(settings.train(), totalSteps, settings.model().dropout() > 0);
        tc.setIterationCount(globalStep);
        tc.setEpochCount(epoch);
        sd.setTrainingConfig(tc);
    }

    /** How text becomes the model's input in training and validation ({@code features}). */
    public Featurizer featurizer() {
        return new Featurizer(vocab, descriptor.normalization(), settings.features());
    }

    /** How text becomes the model's input in the test evaluation and later use ({@code inference-max-length}). */
    public Featurizer inferenceFeaturizer() {
        return new Featurizer(vocab, descriptor.normalization(), settings.features().atInference());
    }

    /**
     * {@code rows} in batches of {@code train.batch-size}, with epoch {@code epoch}'s dropout masks; labels one-hot, or
     * multi-hot for a multi-label task.
     */
    public BertIterator batches(Featurizer featurizer, List<LabeledText> rows, List<String> labels, int epoch) {
        double dropout = settings.model().dropout();
        return featurizer.iterator(rows, labels, settings.train().batchSize(), dropout > 0
                        ? new DropoutMasks(dropout, descriptor.hiddenSize(), settings.train().seed(), epoch) : null,
                settings.model().task() == Settings.Task.MULTI_LABEL);
    }

    /**
     * How the classifier decides before any tuning: the most probable class, or, for multi-label, every label at or
     * over {@code model.threshold} (its fallback value when the thresholds are to be tuned).
     */
    public Task task(List<String> labels) {
        return settings.model().task() == Settings.Task.MULTI_LABEL
                ? Task.multiLabel(labels, filled(labels.size(), settings.model().threshold().value()))
                : Task.singleLabel(labels);
    }

    private static double[] filled(int n, double value) {
        double[] d = new double[n];
        Arrays.fill(d, value);
        return d;
    }

    /** One pass of {@code fit} over {@code batches}, with {@code listeners} and then the engine's own. */
    public void fit(BertIterator batches, Listener... listeners) {
        Engine.createGradients(sd);
        List<Listener> all = new ArrayList<>(Arrays.asList(listeners));
        all.addAll(Engine.fitListeners());
        TrainingSetup.fitIn(settings.train(), () -> sd.fit(batches, 1, all.toArray(new Listener[0])));
    }

    public SameDiff sd() {
        return sd;
    }

    public ModelDescriptor descriptor() {
        return descriptor;
    }

    public Path vocab() {
        return vocab;
    }
}
