package dev.bertclf.bench;

import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.Truncation;
import dev.bertclf.model.ClassifierHead;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.PretrainedBert;
import dev.bertclf.train.DropoutMasks;
import dev.bertclf.train.TrainingSetup;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.ArrayList;
import java.util.List;

/**
 * Training throughput of the product's own training step (BERT-base + head, AdamW, dropout, per-step GC):
 * examples/s as the median over {@code STEPS} steps after {@code WARMUP}, and peak RSS, per configuration.
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
        System.out.println("Machine: " + Stats.machine());
        ModelDescriptor d = ModelDescriptor.load(s.model().descriptorFile());
        for (Shape shape : shapes) {
            PretrainedBert.Loaded bert = PretrainedBert.load(d, s.model().cacheDir());
            SameDiff sd = bert.sd();
            ClassifierHead.attach(sd, d, 2, s.model().encoderLayers(), shape.frozenLayers(), s.model().dropout(), 1);
            int n = (WARMUP + STEPS) * shape.batch();
            sd.setTrainingConfig(TrainingSetup.config(s.train(), WARMUP + STEPS, s.model().dropout() > 0));
            Featurizer f = new Featurizer(bert.vocab(), d.lowerCase(),
                    new Featurizer.Settings(shape.seqLen(), Truncation.HEAD_TAIL, 0.25, true, true));
            List<Double> seconds = new ArrayList<>();
            sd.fit(f.iterator(reviews.subList(0, n), List.of("negative", "positive"), shape.batch(),
                    s.model().dropout() > 0 ? new DropoutMasks(s.model().dropout(), d.hiddenSize(), 1, 0) : null),
                    1, new BaseListener() {
                        long start;

                        @Override
                        public boolean isActive(Operation operation) {
                            return operation == Operation.TRAINING;
                        }

                        @Override
                        public void iterationStart(SameDiff sd, At at, MultiDataSet data, long etlMs) {
                            start = System.nanoTime();
                        }

                        @Override
                        public void iterationDone(SameDiff sd, At at, MultiDataSet data, Loss loss) {
                            seconds.add((System.nanoTime() - start) / 1e9);
                            System.gc();
                        }
                    });
            double median = Stats.median(seconds.subList(WARMUP, seconds.size()));
            System.out.printf("Train %dx%d, %d frozen layers: %.2f s/step = %.2f examples/s (median of %d steps"
                            + " after %d warm-up); peak RSS so far %.2f GB%n", shape.batch(), shape.seqLen(),
                    shape.frozenLayers(), median, shape.batch() / median, STEPS, WARMUP, Stats.peakRssGb());
        }
    }
}
