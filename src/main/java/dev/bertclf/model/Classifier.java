package dev.bertclf.model;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.data.Featurizer;
import dev.bertclf.config.CpuInfo;
import dev.bertclf.config.Settings;
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
     * as they are), or null for FP32. Int8 quantizes every dense product's weight (activations per row: with them no
     * product loses more than the others, {@code BenchmarkForward --int8-sensitivity}, docs/measurements.md) and, on a
     * CPU without VNNI, keeps activations to 7 bits.
     */
    public static Engine.InferenceWeights preparedWeights(SameDiff sd, Precision precision) {
        return switch (precision) {
            case FP32 -> null;
            case BF16 -> Engine.InferenceWeights.bf16(sd);
            case INT8 -> int8Weights(sd, name -> true);
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

    /** {@link #predict}, with each text's word pieces counted (over all its windows, where it is read in windows). */
    public synchronized Output classify(List<String> texts) {
        return classify(featurizer.featurize(texts));
    }

    /**
     * The texts' probabilities from their featurized rows. Where the rows are windows
     * ({@code features.long-text = windows}), they run in passes of at most {@link #passRows} rows ({@link Reading}).
     */
    public synchronized Output classify(Featurizer.Batch b) {
        if (featurizer.settings().longText() != Settings.LongText.WINDOWS) {
            return new Output(probabilities(b).toFloatMatrix(), wordPieces(b));
        }
        Reading r = new Reading(b, passRows(b.texts()));
        while (!r.step()) {
            // one pass a step
        }
        return r.result();
    }

    /** Texts read in windows, one pass at a time: a server runs other passes between them. */
    public Reading read(List<String> texts, int passRows) {
        return new Reading(featurizer.featurize(texts), passRows);
    }

    /**
     * Featurized texts read a pass of at most {@code passRows} rows at a time ({@link #step}, on the thread that runs
     * the classifier's passes); then each text's logits are its rows' pooled ({@code features.window-pooling}, class
     * by class) and the task's activation makes them probabilities.
     */
    public final class Reading {
        private final Featurizer.Batch batch;
        private final int passRows;
        private final float[][] rowLogits;
        private int next;

        private Reading(Featurizer.Batch batch, int passRows) {
            this.batch = batch;
            this.passRows = Math.max(1, passRows);
            this.rowLogits = new float[batch.rows()][];
        }

        /** Runs the next pass; true once every row has been read. */
        public boolean step() {
            if (next < batch.rows()) {
                Featurizer.Batch pass = batch.rows(next, Math.min(batch.rows(), next + passRows));
                float[][] l;
                synchronized (Classifier.this) {
                    l = (prepared == null ? logits(sd, pass) : prepared.run(() -> logits(sd, pass))).toFloatMatrix();
                }
                System.arraycopy(l, 0, rowLogits, next, l.length);
                next += l.length;
            }
            return next >= batch.rows();
        }

        /** Every row's logits {@code [rows, labels]}, once read: what {@link #result} pools. */
        public float[][] rowLogits() {
            return rowLogits;
        }

        /** The rows of the batch read: which text each is of. */
        public Featurizer.Batch batch() {
            return batch;
        }

        /** The texts' probabilities and word pieces (over all their windows), once read. */
        public Output result() {
            if (next < batch.rows()) {
                throw new IllegalStateException("read " + next + " of " + batch.rows() + " rows");
            }
            float[][] pooled = pool(rowLogits, batch.textOfRow(), batch.texts(),
                    featurizer.settings().windows().pooling());
            float[][] probabilities = new float[pooled.length][];
            for (int t = 0; t < pooled.length; t++) {
                probabilities[t] = task.probabilities(pooled[t]);
            }
            return new Output(probabilities, wordPieces(batch));
        }
    }

    /** Each text's word pieces, [CLS] and [SEP] included, summed over its rows. */
    private static int[] wordPieces(Featurizer.Batch b) {
        int[] wordPieces = new int[b.texts()];
        int[] perRow = b.inputMask().sum(1).toIntVector();
        for (int r = 0; r < b.rows(); r++) {
            wordPieces[b.textOfRow()[r]] += perRow[r];
        }
        return wordPieces;
    }

    /** The most windows in one pass of {@code texts} texts read in windows: as many as texts, and at least 8. */
    public static int passRows(int texts) {
        return Math.max(8, texts);
    }

    /** Each text's scores from its rows' ({@code textOfRow} ascending): their mean or largest, class by class. */
    public static float[][] pool(float[][] rows, int[] textOfRow, int texts, Settings.WindowPooling pooling) {
        float[][] out = new float[texts][];
        int[] count = new int[texts];
        for (int r = 0; r < rows.length; r++) {
            int t = textOfRow[r];
            if (out[t] == null) {
                out[t] = rows[r].clone();
            } else {
                for (int j = 0; j < rows[r].length; j++) {
                    out[t][j] = pooling == Settings.WindowPooling.MAX ? Math.max(out[t][j], rows[r][j])
                            : out[t][j] + rows[r][j];
                }
            }
            count[t]++;
        }
        if (pooling == Settings.WindowPooling.MEAN) {
            for (int t = 0; t < texts; t++) {
                for (int j = 0; j < out[t].length; j++) {
                    out[t][j] /= count[t];
                }
            }
        }
        return out;
    }

    /** The logits {@code [rows, labels]} of featurized input, in float32. */
    public static INDArray logits(SameDiff sd, Featurizer.Batch b) {
        return sd.output(placeholders(b), GraphNames.LOGITS).get(GraphNames.LOGITS);
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
