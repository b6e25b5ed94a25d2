package dev.bertclf.train;

import dev.bertclf.config.ConfigException;
import dev.bertclf.config.Settings;
import dev.bertclf.data.LabeledText;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassWeightsTest {
    static final List<String> LABELS = List.of("a", "b", "c");

    static List<LabeledText> rows(int a, int b, int c) {
        List<LabeledText> rows = new ArrayList<>();
        for (int i = 0; i < a + b + c; i++) {
            rows.add(new LabeledText("text " + i, i < a ? "a" : i < a + b ? "b" : "c", i + 2));
        }
        return rows;
    }

    @Test
    void balancedIsScikitLearnsExamplesOverClassesTimesCount() {
        // 6, 3 and 1 examples of 10: 10 / (3 x 6), 10 / (3 x 3), 10 / (3 x 1); scikit-learn 1.2.1's
        // compute_class_weight("balanced") gives 0.5556, 1.1111, 3.3333
        float[] w = ClassWeights.of(new Settings.ClassWeights(Settings.ClassWeights.Mode.BALANCED, Map.of()), LABELS,
                rows(6, 3, 1));
        assertArrayEquals(new float[]{10f / 18, 10f / 9, 10f / 3}, w, 1e-6f);
    }

    @Test
    void givenWeightsFollowTheLabelsAndUnnamedLabelsWeighOne() {
        float[] w = ClassWeights.of(new Settings.ClassWeights(Settings.ClassWeights.Mode.GIVEN, Map.of("c", 4.0)),
                LABELS, rows(1, 1, 1));
        assertArrayEquals(new float[]{1, 1, 4}, w);
        assertNull(ClassWeights.of(new Settings.ClassWeights(Settings.ClassWeights.Mode.NONE, Map.of()), LABELS,
                rows(1, 1, 1)));
    }

    @Test
    void aWeightForALabelTheDataLacksIsRefusedNamingIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> ClassWeights.of(new Settings.ClassWeights(
                Settings.ClassWeights.Mode.GIVEN, Map.of("d", 2.0)), LABELS, rows(1, 1, 1)));
        assertTrue(e.getMessage().contains("[d]") && e.getMessage().contains("[a, b, c]"), e.getMessage());
    }

    @Test
    void balancedPositiveWeightsAreEachLabelsNegativesOverItsPositives() {
        // 5 texts: a in 4 of them, b in 2, c in 1 -> 1/4, 3/2, 4/1
        List<LabeledText> rows = List.of(new LabeledText("1", List.of("a", "b"), 2),
                new LabeledText("2", List.of("a"), 3), new LabeledText("3", List.of("a", "c"), 4),
                new LabeledText("4", List.of("a", "b"), 5), new LabeledText("5", List.of(), 6));
        assertArrayEquals(new float[]{0.25f, 1.5f, 4f}, ClassWeights.positiveWeights(new Settings.ClassWeights(
                Settings.ClassWeights.Mode.BALANCED, Map.of()), LABELS, rows), 1e-6f);
    }
}
