package dev.bertclf.bench;

import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.LabeledText;
import dev.bertclf.train.StepTimer;
import dev.bertclf.train.TrainableClassifier;
import org.nd4j.autodiff.listeners.Listener;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Training throughput of the product's own training step, built by the product's own set-up
 * ({@link TrainableClassifier}: BERT-base and the head for the experiment's labels, AdamW, dropout, the engine's
 * listeners), at the experiment's settings with the shape's batch size, length (fixed) and frozen layers on top:
 * examples/s as the median over {@code STEPS} steps after {@code WARMUP}, and peak RSS, per configuration; and an
 * op-level profile of the same step.
 */
public final class TrainingBenchmark {
    static final int WARMUP = 2;
    static final int STEPS = 10;

    /** One measured configuration. */
    public record Shape(int batch, int seqLen, int frozenLayers) {
        /** The experiment's settings, {@code -D} overrides, and this shape on top. */
        Settings applyTo(Path conf) {
            Properties p = new Properties();
            p.putAll(System.getProperties());
            Map.of("train.batch-size", batch, "features.max-length", seqLen, "features.length", "fixed",
                    "model.frozen-layers", frozenLayers).forEach((k, v) -> p.setProperty(ConfigLoader.ROOT + "." + k,
                    String.valueOf(v)));
            return ConfigLoader.load(conf, p);
        }
    }

    private TrainingBenchmark() {
    }

    public static void run(Path conf, List<LabeledText> reviews, List<Shape> shapes) {
        System.out.println("Machine: " + Stats.machineAndCpu());
        for (Shape shape : shapes) {
            Settings s = shape.applyTo(conf);
            List<Double> seconds = new ArrayList<>();
            train(s, reviews, WARMUP + STEPS, new StepTimer((secs, data, loss) -> seconds.add(secs)));
            double median = Stats.median(seconds.subList(WARMUP, seconds.size()));
            System.out.printf("Train %dx%d, %d frozen layers, %s products: %.2f s/step = %.2f examples/s (median of"
                            + " %d steps after %d warm-up); peak RSS so far %.2f GB%n", shape.batch(), shape.seqLen(),
                    shape.frozenLayers(), Settings.nameOf(s.train().precision()), median, shape.batch() / median,
                    STEPS, WARMUP, Stats.peakRssGb());
        }
    }

    /** Where the time of {@code steps} training steps (after {@link #WARMUP}) goes, as Markdown. */
    public static String profile(Path conf, List<LabeledText> reviews, Shape shape, int steps) {
        StepProfile profile = new StepProfile(WARMUP);
        train(shape.applyTo(conf), reviews, WARMUP + steps, profile, new StepTimer((secs, data, loss) -> { }));
        return String.format("Profile of a %dx%d training step, %d frozen layers (%s, CPU %s)%n%n", shape.batch(),
                shape.seqLen(), shape.frozenLayers(), Stats.machine(), Stats.cpuModel()) + profile.markdown(15);
    }

    /**
     * Fits {@code steps} batches of {@code reviews} (repeated as needed) through the product's training set-up; the
     * labels are those of the reviews, sorted, as the product takes them from its training file.
     */
    private static void train(Settings s, List<LabeledText> reviews, int steps, Listener... listeners) {
        List<String> labels = reviews.stream().map(LabeledText::label).distinct().sorted().toList();
        TrainableClassifier model = TrainableClassifier.build(s, labels.size());
        model.configure(steps, 0, 0);
        int batch = s.train().batchSize();
        List<LabeledText> rows = new ArrayList<>();
        while (rows.size() < steps * batch) {
            rows.addAll(reviews.subList(0, Math.min(reviews.size(), steps * batch - rows.size())));
        }
        model.fit(model.batches(model.featurizer(), rows, labels, 0), listeners);
    }
}
