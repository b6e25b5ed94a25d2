package dev.bertclf.train;

import dev.bertclf.TestSettings;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.schedule.ISchedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingSetupTest {
    @Test
    void warmupThenLinearDecayToZero() {
        ISchedule s = TrainingSetup.schedule(TestSettings.with("train.learning-rate=1e-4", "train.warmup=0.1",
                "train.schedule=linear").train(), 100);
        assertEquals(1e-5, s.valueAt(0, 0), 1e-12, "first warm-up step: a tenth of the rate");
        assertTrue(s.valueAt(5, 0) < s.valueAt(9, 0), "rises during warm-up");
        assertEquals(1e-4 * 0.91, s.valueAt(9, 0), 1e-12, "end of warm-up");
        assertTrue(s.valueAt(50, 0) < s.valueAt(10, 0), "decays after warm-up");
        assertEquals(1e-4 * 0.5, s.valueAt(50, 0), 1e-12);
        assertEquals(0, s.valueAt(100, 0), 0);
    }

    @Test
    void constantSchedule() {
        ISchedule s = TrainingSetup.schedule(TestSettings.with("train.learning-rate=3e-5", "train.warmup=0",
                "train.schedule=constant").train(), 100);
        assertEquals(3e-5, s.valueAt(0, 0), 0);
        assertEquals(3e-5, s.valueAt(99, 0), 0);
    }

    @Test
    void linearDecayScheduleSurvivesNd4jJson() throws Exception {
        var mapper = org.nd4j.serde.json.JsonMappers.getMapper();
        ISchedule s = new LinearDecaySchedule(2e-5, 40);
        ISchedule back = mapper.readValue(mapper.writeValueAsString(s), ISchedule.class);
        assertEquals(s.valueAt(10, 0), back.valueAt(10, 0), 0);
    }
}
