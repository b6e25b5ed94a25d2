package dev.bertclf.train;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.config.Settings;
import dev.bertclf.model.GraphNames;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.ArrayList;
import java.util.List;

/** The SameDiff training configuration of an experiment: optimizer, learning-rate schedule, input mapping. */
public final class TrainingSetup {
    private TrainingSetup() {
    }

    /** Runs {@code fit} (SameDiff's {@code fit} on this thread) with the matrix products in {@code t}'s precision. */
    public static void fitIn(Settings.TrainSettings t, Runnable fit) {
        if (t.precision() == Settings.Precision.BF16) {
            Engine.inBf16(fit);
        } else {
            fit.run();
        }
    }

    /** Linear warm-up over {@code warmup × totalSteps}, then linear decay to 0 ("linear") or constant. */
    public static ISchedule schedule(Settings.TrainSettings t, int totalSteps) {
        return new WarmupSchedule(t.learningRate(), (int) Math.round(t.warmup() * totalSteps),
                Math.max(totalSteps, 1), t.schedule() == Settings.Schedule.LINEAR);
    }

    /**
     * Adam, or AdamW (Adam + decoupled weight decay of weight matrices, as in BERT); inputs {@code input_ids,
     * segment_ids[, dropout_mask]} with
     * mask {@code input_mask}, labels {@code label}; the loss is kept so listeners see it ({@link Engine#keepLoss}).
     */
    public static TrainingConfig config(Settings.TrainSettings t, int totalSteps, boolean dropout) {
        List<String> features = new ArrayList<>(List.of(GraphNames.INPUT_IDS, GraphNames.SEGMENT_IDS));
        if (dropout) {
            features.add(GraphNames.DROPOUT_MASK);
        }
        TrainingConfig.Builder b = TrainingConfig.builder()
                .updater(Adam.builder().learningRateSchedule(schedule(t, totalSteps)).build())
                .dataSetFeatureMapping(features)
                .dataSetFeatureMaskMapping(GraphNames.INPUT_MASK)
                .dataSetLabelMapping(GraphNames.LABEL)
                .minimize(GraphNames.LOSS);
        Engine.keepLoss(b, GraphNames.LOSS_KEEPER);
        if (t.optimizer() == Settings.Optimizer.ADAMW && t.weightDecay() > 0) {
            b.regularization(new MatrixWeightDecay(t.weightDecay()));
        }
        return b.build();
    }
}
