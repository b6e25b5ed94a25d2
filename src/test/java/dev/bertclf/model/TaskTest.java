package dev.bertclf.model;

import dev.bertclf.config.Settings;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TaskTest {
    static final List<String> LABELS = List.of("anger", "joy", "love");

    @Test
    void aSingleLabelTaskChoosesTheMostProbableClass() {
        Task t = Task.singleLabel(LABELS);
        assertEquals(List.of("joy"), t.chosen(new float[]{0.2f, 0.5f, 0.3f}));
        assertEquals("joy", t.decision(new float[]{0.2f, 0.5f, 0.3f}));
        assertEquals(List.of("label", "p_anger", "p_joy", "p_love"), t.outputColumns());
        assertArrayEquals(new boolean[]{false, true, false}, t.decisions(new float[][]{{0.2f, 0.5f, 0.3f}})[0]);
    }

    @Test
    void aMultiLabelTaskChoosesEveryLabelAtOrOverItsOwnThreshold() {
        Task t = Task.multiLabel(LABELS, new double[]{0.5, 0.25, 0.9});
        assertEquals(List.of("anger", "joy"), t.chosen(new float[]{0.5f, 0.25f, 0.89f}), "at the threshold counts");
        assertEquals(List.of(), t.chosen(new float[]{0.49f, 0.2f, 0.1f}), "none over: no label");
        assertEquals("", t.decision(new float[]{0.49f, 0.2f, 0.1f}));
        assertEquals("anger;love", t.decision(new float[]{0.6f, 0.1f, 0.95f}));
        assertEquals(List.of("labels", "p_anger", "p_joy", "p_love"), t.outputColumns());
        assertArrayEquals(new boolean[]{true, false, true}, t.decisions(new float[][]{{0.6f, 0.1f, 0.95f}})[0]);
        assertEquals(0.25, t.thresholdsByLabel().get("joy"));
        assertEquals("multi-label", t.toMap().get("task"));
    }

    @Test
    void aMultiLabelTaskNeedsOneThresholdPerLabel() {
        assertThrows(IllegalArgumentException.class, () -> Task.multiLabel(LABELS, new double[]{0.5}));
        assertEquals("multi-label", Settings.nameOf(Settings.Task.MULTI_LABEL));
    }
}
