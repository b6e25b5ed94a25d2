package dev.bertclf.train;

import dev.bertclf.config.Settings;
import dev.bertclf.model.GraphNames;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.RampSchedule;

import java.util.ArrayList;
import java.util.List;

/** The SameDiff training configuration of an experiment: optimizer, learning-rate schedule, input mapping. */
public final class TrainingSetup {
    private TrainingSetup() {
    }

    /**
     * Linear warm-up over {@code warmup × totalSteps} (ND4J's {@link RampSchedule}) of a linear decay to 0 at
     * {@code totalSteps}, as in Google's BERT; or a constant rate.
     */
    public static ISchedule schedule(Settings.TrainSettings t, int totalSteps) {
        ISchedule base = t.schedule().equals("linear")
                ? new LinearDecaySchedule(t.learningRate(), Math.max(totalSteps, 1))
                : new FixedSchedule(t.learningRate());
        int warmupSteps = (int) Math.round(t.warmup() * totalSteps);
        return warmupSteps > 0 ? new RampSchedule(base, warmupSteps) : base;
    }

    /**
     * Adam, or AdamW (Adam + decoupled weight decay); inputs {@code input_ids, segment_ids[, dropout_mask]} with
     * mask {@code input_mask}, labels {@code label}; the loss is kept so listeners see it (trap G).
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
                .trainEvaluation(GraphNames.LOSS_KEEPER, 0, new LossKeeper());
        if (t.optimizer().equals("adamw") && t.weightDecay() > 0) {
            b.weightDecay(t.weightDecay(), true);
        }
        return b.build();
    }
}
