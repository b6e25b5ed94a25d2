package dev.bertclf.nd4jfix.repair;

/**
 * Keeps the word-embedding table frozen whatever the experiment asks: it is never made a trainable variable.
 *
 * <p><b>Symptom:</b> with the word embeddings trainable, the first training step fails: {@code assign ... Output
 * array did not match expected shape}.
 * <p><b>Cause:</b> the gradient of the imported {@code gather} (the word-embedding lookup) fails in M2.1.
 * <p><b>Guarded by:</b> every training test (they fail at the first step when the table trains).
 * <p><b>Remove when:</b> a newer ND4J back-propagates through the imported gather; then drop this check and let
 * {@code model.frozen-layers} decide, as for the other embeddings.
 */
public final class FrozenWordEmbeddings {
    private FrozenWordEmbeddings() {
    }

    /** Whether the pretrained weight {@code name} may train, given the model's word-embedding tensor name. */
    public static boolean mayTrain(String name, String wordEmbeddings) {
        return !name.equals(wordEmbeddings);
    }
}
