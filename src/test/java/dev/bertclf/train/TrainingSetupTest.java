package dev.bertclf.train;

import dev.bertclf.TestSettings;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.schedule.ISchedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingSetupTest {
    @Test
    void warmupThenLinearDecayToZero() {
        ISchedule s = TrainingSetup.schedule(TestSettings.with("train.learning-rate=1e-4", "train.warmup=0.1",
                "train.schedule=linear").train(), 100);
        assertEquals(1e-5, s.valueAt(0, 0), 1e-12, "first warm-up step: a tenth of the peak");
        assertTrue(s.valueAt(5, 0) < s.valueAt(9, 0), "rises during warm-up");
        assertEquals(1e-4, s.valueAt(9, 0), 1e-12, "peak at the end of warm-up");
        assertEquals(1e-4 * 0.9, s.valueAt(10, 0), 1e-12, "then on the linear decay line");
        assertEquals(1e-4 * 0.5, s.valueAt(50, 0), 1e-12);
        assertEquals(0, s.valueAt(100, 0), 0);
    }

    @Test
    void constantScheduleWithoutWarmup() {
        ISchedule s = TrainingSetup.schedule(TestSettings.with("train.learning-rate=3e-5", "train.warmup=0",
                "train.schedule=constant").train(), 100);
        assertEquals(3e-5, s.valueAt(0, 0), 0);
        assertEquals(3e-5, s.valueAt(99, 0), 0);
    }

    /** A checkpoint stores the training config as JSON; resuming must read it back (M2.1's RampSchedule fails). */
    @Test
    void trainingConfigSurvivesTheCheckpointJson() {
        TrainingConfig tc = TrainingSetup.config(TestSettings.with("train.learning-rate=2e-5", "train.warmup=0.1",
                "train.optimizer=adamw").train(), 40, true);
        TrainingConfig back = TrainingConfig.fromJson(tc.toJson());
        ISchedule before = ((Adam) tc.getUpdater()).getLearningRateSchedule();
        ISchedule after = ((Adam) back.getUpdater()).getLearningRateSchedule();
        for (int i : new int[]{0, 3, 4, 20, 39}) {
            assertEquals(before.valueAt(i, 0), after.valueAt(i, 0), 0, "step " + i);
        }
        assertEquals(tc.getDataSetFeatureMapping(), back.getDataSetFeatureMapping());
        assertEquals(1, back.getRegularization().size(), "AdamW's weight decay");
        assertTrue(back.getRegularization().get(0) instanceof MatrixWeightDecay, "BERT's weight decay survives");
    }
}
