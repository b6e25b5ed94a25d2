package dev.bertclf.model;

import dev.bertclf.config.Settings;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a classifier's probabilities mean and how they become labels: for {@link Settings.Task#SINGLE_LABEL}, a
 * softmax over the classes and the most probable one; for {@link Settings.Task#MULTI_LABEL}, a sigmoid per label and
 * every label whose probability is at least its threshold (none, when none is). Every surface (the metrics,
 * Predict, Serve, Score, the demo page) decides through it, so they cannot disagree.
 *
 * @param thresholds one per label for multi-label, empty for single-label
 */
public record Task(Settings.Task kind, List<String> labels, double[] thresholds) {
    public Task {
        labels = List.copyOf(labels);
        thresholds = thresholds.clone();
        if (kind == Settings.Task.MULTI_LABEL && thresholds.length != labels.size()) {
            throw new IllegalArgumentException(thresholds.length + " thresholds for " + labels.size() + " labels");
        }
    }

    public static Task singleLabel(List<String> labels) {
        return new Task(Settings.Task.SINGLE_LABEL, labels, new double[0]);
    }

    public static Task multiLabel(List<String> labels, double[] thresholds) {
        return new Task(Settings.Task.MULTI_LABEL, labels, thresholds);
    }

    public boolean multiLabel() {
        return kind == Settings.Task.MULTI_LABEL;
    }

    /**
     * One text's probabilities from its logits, as the classifier head makes them: a softmax over the classes, or a
     * sigmoid per label (in double, then rounded to float).
     */
    public float[] probabilities(float[] logits) {
        float[] p = new float[logits.length];
        if (multiLabel()) {
            for (int j = 0; j < p.length; j++) {
                p[j] = (float) (1 / (1 + Math.exp(-logits[j])));
            }
            return p;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        double[] e = new double[p.length];
        for (int j = 0; j < p.length; j++) {
            e[j] = Math.exp(logits[j] - max);
            sum += e[j];
        }
        for (int j = 0; j < p.length; j++) {
            p[j] = (float) (e[j] / sum);
        }
        return p;
    }

    /** The labels one text's probabilities give, in label order. */
    public List<String> chosen(float[] probabilities) {
        if (!multiLabel()) {
            return List.of(labels.get(argMax(probabilities)));
        }
        List<String> out = new ArrayList<>();
        for (int j = 0; j < labels.size(); j++) {
            if (probabilities[j] >= thresholds[j]) {
                out.add(labels.get(j));
            }
        }
        return out;
    }

    /** How Predict and Score write a multi-label text's labels in one column. */
    public static final String LABEL_SEPARATOR = ";";

    /**
     * The columns Predict and Score add for each text: {@code label} (single-label) or {@code labels} (multi-label,
     * joined by {@link #LABEL_SEPARATOR}, empty when none), then {@code p_<label>} for every label.
     */
    public List<String> outputColumns() {
        List<String> c = new ArrayList<>(List.of(multiLabel() ? "labels" : "label"));
        labels.forEach(l -> c.add("p_" + l));
        return c;
    }

    /** The first of {@link #outputColumns()} for one text: its label, or its labels joined. */
    public String decision(float[] probabilities) {
        return String.join(LABEL_SEPARATOR, chosen(probabilities));
    }

    /** Each text's decision per label: {@code [texts][labels]}. */
    public boolean[][] decisions(float[][] probabilities) {
        boolean[][] d = new boolean[probabilities.length][labels.size()];
        for (int i = 0; i < probabilities.length; i++) {
            if (multiLabel()) {
                for (int j = 0; j < labels.size(); j++) {
                    d[i][j] = probabilities[i][j] >= thresholds[j];
                }
            } else {
                d[i][argMax(probabilities[i])] = true;
            }
        }
        return d;
    }

    /** The thresholds by label (empty for single-label). */
    public Map<String, Double> thresholdsByLabel() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int j = 0; j < thresholds.length; j++) {
            m.put(labels.get(j), thresholds[j]);
        }
        return m;
    }

    /** What {@code /model} and the run folder say of the task: its kind, labels and (multi-label) thresholds. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", Settings.nameOf(kind));
        m.put("labels", labels);
        if (multiLabel()) {
            m.put("thresholds", thresholdsByLabel());
        }
        return m;
    }

    /** Index of the largest probability in a row. */
    public static int argMax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Task t && kind == t.kind && labels.equals(t.labels)
                && Arrays.equals(thresholds, t.thresholds);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * kind.hashCode() + labels.hashCode()) + Arrays.hashCode(thresholds);
    }

    @Override
    public String toString() {
        return Settings.nameOf(kind) + " " + (multiLabel() ? thresholdsByLabel() : labels);
    }
}
