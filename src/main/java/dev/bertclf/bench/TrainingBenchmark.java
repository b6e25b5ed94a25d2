package dev.bertclf.bench;

import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.nd4jfix.OffHeapRelease;
import dev.bertclf.nd4jfix.QuietStdout;
import dev.bertclf.model.ClassifierHead;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.MavenArtifacts;
import dev.bertclf.model.PretrainedBert;
import dev.bertclf.train.DropoutMasks;
import dev.bertclf.train.StepTimer;
import dev.bertclf.train.TrainingSetup;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.ArrayList;
import java.util.List;

/**
 * Training throughput of the product's own training step (BERT-base + head, AdamW, dropout, gradients freed after
 * each step):
 * examples/s as the median over {@code STEPS} steps after {@code WARMUP}, and peak RSS, per configuration; and an
 * op-level profile of the same step.
 */
public final class TrainingBenchmark {
    static final int WARMUP = 2;
    static final int STEPS = 10;

    /** One measured configuration. */
    public record Shape(int batch, int seqLen, int frozenLayers) {
    }

    private TrainingBenchmark() {
    }

    public static void run(Settings s, List<LabeledText> reviews, List<Shape> shapes) {
        System.out.println("Machine: " + Stats.machineAndCpu());
        for (Shape shape : shapes) {
            List<Double> seconds = new ArrayList<>();
            train(s, reviews, shape, WARMUP + STEPS, new StepTimer((secs, data, loss) -> seconds.add(secs)),
                    new OffHeapRelease());
            double median = Stats.median(seconds.subList(WARMUP, seconds.size()));
            System.out.printf("Train %dx%d, %d frozen layers, %s products: %.2f s/step = %.2f examples/s (median of"
                            + " %d steps after %d warm-up); peak RSS so far %.2f GB%n", shape.batch(), shape.seqLen(),
                    shape.frozenLayers(), Settings.nameOf(s.train().precision()), median, shape.batch() / median,
                    STEPS, WARMUP, Stats.peakRssGb());
        }
    }

    /** Where the time of {@code steps} training steps (after {@link #WARMUP}) goes, as Markdown. */
    public static String profile(Settings s, List<LabeledText> reviews, Shape shape, int steps) {
        StepProfile profile = new StepProfile(WARMUP);
        train(s, reviews, shape, WARMUP + steps, profile, new StepTimer((secs, data, loss) -> { }),
                new OffHeapRelease());
        return String.format("Profile of a %dx%d training step, %d frozen layers (%s, CPU %s)%n%n", shape.batch(),
                shape.seqLen(), shape.frozenLayers(), Stats.machine(), Stats.cpuModel()) + profile.markdown(15);
    }

    /** Fits {@code steps} batches of the shape with the product's training config, fixed-length features. */
    private static void train(Settings s, List<LabeledText> reviews, Shape shape, int steps, Listener... listeners) {
        ModelDescriptor d = ModelDescriptor.load(s.model().descriptorFile());
        PretrainedBert.Loaded bert = PretrainedBert.load(d, s.model().cacheDir(),
                MavenArtifacts.Repositories.of(s.model()));
        SameDiff sd = bert.sd();
        ClassifierHead.attach(sd, d, 2, s.model().encoderLayers(), shape.frozenLayers(), s.model().dropout(), 1);
        sd.setTrainingConfig(TrainingSetup.config(s.train(), steps, s.model().dropout() > 0));
        QuietStdout.run(sd::createGradFunction);
        Featurizer f = new Featurizer(bert.vocab(), d.normalization(),
                new FeatureSettings(shape.seqLen(), Truncation.HEAD_TAIL, 0.25, Padding.FIXED, true));
        List<LabeledText> rows = new ArrayList<>();
        while (rows.size() < steps * shape.batch()) {
            rows.addAll(reviews.subList(0, Math.min(reviews.size(), steps * shape.batch() - rows.size())));
        }
        TrainingSetup.fitIn(s.train(), () -> sd.fit(f.iterator(rows, List.of("negative", "positive"),
                shape.batch(), s.model().dropout() > 0 ? new DropoutMasks(s.model().dropout(), d.hiddenSize(), 1, 0)
                        : null), 1, listeners));
    }
}
