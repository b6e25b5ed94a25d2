package dev.bertclf.model;

/**
 * Every tensor name the project uses in a SameDiff graph, in one place.
 *
 * <p>Imported graphs are renamed to these right after import, so nothing downstream depends on the
 * names a particular TensorFlow export happened to use.
 */
public final class GraphNames {
    private GraphNames() {
    }

    /** Word-piece ids, int32 {@code [batch, seqLen]}. */
    public static final String INPUT_IDS = "input_ids";
    /** 1 for real tokens, 0 for padding, int32 {@code [batch, seqLen]}. */
    public static final String INPUT_MASK = "input_mask";
    /** Sentence A/B ids (all 0 for single texts), int32 {@code [batch, seqLen]}. */
    public static final String SEGMENT_IDS = "segment_ids";

    /** Pooled [CLS] representation, float {@code [batch, hidden]}. */
    public static final String POOLED = "pooled";
    /** Last encoder layer, float {@code [batch, seqLen, hidden]}. */
    public static final String SEQUENCE = "sequence";

    /** Each class's weight in the training loss, {@code [numClasses]} (only where train.class-weights sets them). */
    public static final String CLASS_WEIGHTS = "class_weights";
    /** One-hot labels, float {@code [batch, numClasses]}. */
    public static final String LABEL = "label";
    /** Inverted-dropout multipliers for the pooled output in training, float {@code [batch, hidden]}. */
    public static final String DROPOUT_MASK = "dropout_mask";
    /** Classifier weights {@code [hidden, numClasses]} and bias {@code [numClasses]}. */
    public static final String HEAD_KERNEL = "classifier/kernel";
    public static final String HEAD_BIAS = "classifier/bias";
    /** Inference logits and probabilities {@code [batch, numClasses]} (no dropout). */
    public static final String LOGITS = "logits";
    public static final String PROBS = "probs";
    /** Training logits, computed from the dropped-out pooled output. */
    public static final String TRAIN_LOGITS = "train_logits";
    /** Mean softmax cross-entropy over the batch, scalar. */
    public static final String LOSS = "loss";
    /**
     * {@code loss * 0}: a consumer that makes SameDiff's fit compute and keep the loss ({@code nd4jfix.repair.LossKeeper}).
     */
    public static final String LOSS_KEEPER = "loss_keeper";
}
