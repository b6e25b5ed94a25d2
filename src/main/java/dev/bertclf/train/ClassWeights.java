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
        long[] count = textsWithEachLabel(labels, train);
        float[] w = new float[labels.size()];
        for (int c = 0; c < w.length; c++) {
            w[c] = (float) ((double) train.size() / ((double) labels.size() * count[c]));
        }
        return w;
    }

    /** How many training texts carry each label; a label none carries is refused (its weight would be infinite). */
    private static long[] textsWithEachLabel(List<String> labels, List<LabeledText> train) {
        long[] count = new long[labels.size()];
        for (LabeledText t : train) {
            for (String l : t.labels()) {
                int c = labels.indexOf(l);
                if (c >= 0) {
                    count[c]++;
                }
            }
        }
        for (int c = 0; c < count.length; c++) {
            if (count[c] == 0) {
                throw new ConfigException(List.of("train.class-weights = \"balanced\": label '" + labels.get(c)
                        + "' has no training example"));
            }
        }
        return count;
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

    /**
     * Multi-label positive weights (PyTorch's {@code pos_weight}), or null for none: {@code balanced} gives each
     * label its training texts without it over those with it, so that its positives weigh as much as its negatives;
     * {@code { label = weight }} gives those named that weight and the others 1.
     */
    public static float[] positiveWeights(Settings.ClassWeights cw, List<String> labels, List<LabeledText> train) {
        return switch (cw.mode()) {
            case NONE -> null;
            case GIVEN -> given(cw.given(), labels);
            case BALANCED -> {
                long[] positives = textsWithEachLabel(labels, train);
                float[] w = new float[labels.size()];
                for (int c = 0; c < w.length; c++) {
                    w[c] = (float) ((double) (train.size() - positives[c]) / positives[c]);
                }
                yield w;
            }
        };
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
