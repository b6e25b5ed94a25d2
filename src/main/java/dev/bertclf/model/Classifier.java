package dev.bertclf.model;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.data.Featurizer;
import dev.bertclf.config.CpuInfo;
import dev.bertclf.config.Settings.Precision;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A trained classifier for inference: the SameDiff graph, its featurizer and labels, and the precision of its
 * forward passes ({@code inference.precision}). One caller at a time ({@link #predict} is synchronized). Closing it
 * frees what it made for its passes (bf16 copies of the weights); the graph stays open unless {@link #release}d.
 */
public final class Classifier implements AutoCloseable {
    private final SameDiff sd;
    private final Featurizer featurizer;
    private final Task task;
    private final Precision precision;
    /** The weights' bf16 copies or int8 quantization; null for FP32. */
    private final Engine.InferenceWeights prepared;

    /** A single-label classifier of {@code labels}. */
    public Classifier(SameDiff sd, Featurizer featurizer, List<String> labels, Precision precision) {
        this(sd, featurizer, Task.singleLabel(labels), precision);
    }

    /** {@code sd}'s weights must not change while this classifier is in use (nothing trains it meanwhile). */
    public Classifier(SameDiff sd, Featurizer featurizer, Task task, Precision precision) {
        this.sd = sd;
        this.featurizer = featurizer;
        this.task = task;
        this.precision = precision;
        this.prepared = preparedWeights(sd, precision);
    }

    public List<String> labels() {
        return task.labels();
    }

    /** What the probabilities mean and how they become labels. */
    public Task task() {
        return task;
    }

    public Featurizer featurizer() {
        return featurizer;
    }

    public SameDiff graph() {
        return sd;
    }

    public Precision precision() {
        return precision;
    }

    /** How many of the graph's weights this classifier has quantized to int8 so far (each once); 0 unless INT8. */
    public synchronized long quantizedWeights() {
        return prepared == null ? 0 : prepared.quantized();
    }

    /**
     * {@code sd}'s weights prepared for inference in {@code precision} (made on first use, then kept while they stay
     * as they are), or null for FP32. Int8 leaves the FFN's second products in float32 (the rule measured with
     * {@code BenchmarkForward --int8-sensitivity}: docs/measurements.md) and, on a CPU without VNNI, keeps
     * activations to 7 bits.
     */
    public static Engine.InferenceWeights preparedWeights(SameDiff sd, Precision precision) {
        return switch (precision) {
            case FP32 -> null;
            case BF16 -> Engine.InferenceWeights.bf16(sd);
            case INT8 -> int8Weights(sd, name -> !GraphNames.isFfnOutputKernel(name));
        };
    }

    /**
     * {@code sd}'s weights whose names {@code quantized} accepts, prepared for int8 inference with this CPU's
     * activation range (7 bits without VNNI).
     */
    public static Engine.InferenceWeights int8Weights(SameDiff sd, Predicate<String> quantized) {
        return Engine.InferenceWeights.int8(sd, !CpuInfo.Cpu.thisOne().hasVnni(), quantized);
    }

    /**
     * Probabilities {@code [texts, labels]}, each batch at its own token length: of the classes (summing to 1) for a
     * single-label classifier, of each label on its own for a multi-label one.
     */
    public synchronized float[][] predict(List<String> texts) {
        return classify(texts).probabilities();
    }

    /** Class probabilities of some texts, and the word pieces each was read as ([CLS] and [SEP] included). */
    public record Output(float[][] probabilities, int[] wordPieces) {
    }

    /** {@link #predict}, with each text's word pieces counted. */
    public synchronized Output classify(List<String> texts) {
        Featurizer.Batch b = featurizer.featurize(texts);
        return new Output(probabilities(b).toFloatMatrix(), b.inputMask().sum(1).toIntVector());
    }

    /** Class probabilities {@code [batch, labels]} of featurized input. */
    public synchronized INDArray probabilities(Featurizer.Batch b) {
        return prepared == null ? probabilities(sd, b) : prepared.run(() -> probabilities(sd, b));
    }

    /** Runs the inference path ({@code probs}) of a classifier graph in float32. */
    public static INDArray probabilities(SameDiff sd, Featurizer.Batch b) {
        return sd.output(placeholders(b), GraphNames.PROBS).get(GraphNames.PROBS);
    }

    /** A batch's features as a classifier graph's placeholders (a new, modifiable map). */
    static Map<String, INDArray> placeholders(Featurizer.Batch b) {
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(GraphNames.INPUT_IDS, b.inputIds());
        ph.put(GraphNames.INPUT_MASK, b.inputMask());
        ph.put(GraphNames.SEGMENT_IDS, b.segmentIds());
        return ph;
    }

    @Override
    public synchronized void close() {
        if (prepared != null) {
            prepared.close();
        }
    }

    /**
     * Closes this classifier and frees its graph's native memory, for a classifier no one will use again (a model
     * swapped out of a server). On the thread that ran its passes, after the last one.
     */
    public synchronized void release() {
        close();
        Engine.release(sd);
    }

    /** Index of the largest probability in a row. */
    public static int argMax(float[] p) {
        return Task.argMax(p);
    }
}
