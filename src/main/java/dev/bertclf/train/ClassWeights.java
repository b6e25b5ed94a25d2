package dev.bertclf.train;

import dev.bertclf.config.ConfigException;
import dev.bertclf.config.Settings;
import dev.bertclf.data.LabeledText;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** The class weights of a run's loss ({@code train.class-weights}), one per label in the labels' order. */
public final class ClassWeights {
    private ClassWeights() {
    }

    /**
     * The weights for {@code labels}, or null for an unweighted loss. {@code balanced} is scikit-learn's
     * {@code compute_class_weight("balanced")}: training examples / (classes × the class's training examples).
     */
    public static float[] of(Settings.ClassWeights cw, List<String> labels, List<LabeledText> train) {
        return switch (cw.mode()) {
            case NONE -> null;
            case BALANCED -> balanced(labels, train);
            case GIVEN -> given(cw.given(), labels);
        };
    }

    private static float[] balanced(List<String> labels, List<LabeledText> train) {
        long[] count = new long[labels.size()];
        for (LabeledText t : train) {
            int c = labels.indexOf(t.label());
            if (c >= 0) {
                count[c]++;
            }
        }
        float[] w = new float[labels.size()];
        for (int c = 0; c < w.length; c++) {
            if (count[c] == 0) {
                throw new ConfigException(List.of("train.class-weights = \"balanced\": label '" + labels.get(c)
                        + "' has no training example"));
            }
            w[c] = (float) ((double) train.size() / ((double) labels.size() * count[c]));
        }
        return w;
    }

    private static float[] given(Map<String, Double> given, List<String> labels) {
        List<String> unknown = new ArrayList<>();
        for (String name : given.keySet()) {
            if (!labels.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new ConfigException(List.of("train.class-weights names labels the training data does not have: "
                    + new TreeSet<>(unknown) + " (its labels: " + labels + ")"));
        }
        float[] w = new float[labels.size()];
        for (int c = 0; c < w.length; c++) {
            w[c] = given.getOrDefault(labels.get(c), 1.0).floatValue();
        }
        return w;
    }

    /** The weights by label, for metrics.json; empty for an unweighted loss. */
    public static Map<String, Double> byLabel(float[] weights, List<String> labels) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (weights != null) {
            for (int c = 0; c < weights.length; c++) {
                m.put(labels.get(c), (double) weights[c]);
            }
        }
        return m;
    }
}
