package dev.bertclf.model;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.Truncation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
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

    /** Loads from a run folder (model, labels, vocabulary, feature settings, base-model descriptor). */
    public static Classifier load(RunFolder run) {
        run.requireServable();
        Config config = ConfigFactory.parseFile(run.file(RunFolder.CONFIG).toFile()).resolve();
        if (!config.hasPath(ConfigLoader.ROOT)) {
            throw new ModelException(run.file(RunFolder.CONFIG) + " has no '" + ConfigLoader.ROOT + "' settings");
        }
        Settings.FeatureSettings fs = ConfigLoader.features(config.getConfig(ConfigLoader.ROOT));
        ModelDescriptor base = ModelDescriptor.load(run.file(RunFolder.BASE_MODEL));
        Featurizer featurizer = new Featurizer(run.file(RunFolder.VOCAB), base.lowerCase(), featurizerSettings(fs));
        SameDiff sd = SameDiff.load(run.file(RunFolder.MODEL).toFile(), false);
        for (String name : List.of(GraphNames.INPUT_IDS, GraphNames.INPUT_MASK, GraphNames.SEGMENT_IDS,
                GraphNames.PROBS)) {
            if (!sd.hasVariable(name)) {
                throw new ModelException(run.file(RunFolder.MODEL) + " has no '" + name + "': not a classifier graph");
            }
        }
        return new Classifier(sd, featurizer, run.labels());
    }

    public static Featurizer.Settings featurizerSettings(Settings.FeatureSettings fs) {
        return new Featurizer.Settings(fs.maxLength(), Truncation.parse(fs.truncation()), fs.headFraction(),
                fs.fixedLength(), fs.stripHtmlBreaks());
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
