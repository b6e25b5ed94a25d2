package dev.bertclf.model;

import dev.bertclf.data.Featurizer;
import dev.bertclf.config.Truncation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained classifier for inference: the SameDiff graph, its featurizer and labels. Not thread-safe: one caller
 * at a time ({@link #predict} is synchronized).
 */
public final class Classifier {
    private final SameDiff sd;
    private final Featurizer featurizer;
    private final List<String> labels;

    public Classifier(SameDiff sd, Featurizer featurizer, List<String> labels) {
        this.sd = sd;
        this.featurizer = featurizer;
        this.labels = List.copyOf(labels);
    }

    public List<String> labels() {
        return labels;
    }

    public Featurizer featurizer() {
        return featurizer;
    }

    public SameDiff graph() {
        return sd;
    }

    /** Class probabilities {@code [texts, labels]}, each batch at its own token length. */
    public synchronized float[][] predict(List<String> texts) {
        return probabilities(featurizer.featurize(texts)).toFloatMatrix();
    }

    /** Class probabilities {@code [batch, labels]} of featurized input. */
    public synchronized INDArray probabilities(Featurizer.Batch b) {
        return probabilities(sd, b);
    }

    /** Runs the inference path ({@code probs}) of a classifier graph. */
    public static INDArray probabilities(SameDiff sd, Featurizer.Batch b) {
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(GraphNames.INPUT_IDS, b.inputIds());
        ph.put(GraphNames.INPUT_MASK, b.inputMask());
        ph.put(GraphNames.SEGMENT_IDS, b.segmentIds());
        return sd.output(ph, GraphNames.PROBS).get(GraphNames.PROBS);
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
}
