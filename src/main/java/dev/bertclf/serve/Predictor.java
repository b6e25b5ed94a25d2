package dev.bertclf.serve;

import java.util.List;

/** Class probabilities for texts: {@code [texts, labels]}. Called from one thread at a time. */
@FunctionalInterface
public interface Predictor {
    float[][] predict(List<String> texts);

    /** Probabilities of some texts, and the word pieces each was read as (0 where not known). */
    record Pass(float[][] probabilities, int[] wordPieces) {
    }

    /** {@link #predict}, with the word pieces of each text where the predictor knows them. */
    default Pass pass(List<String> texts) {
        return new Pass(predict(texts), new int[texts.size()]);
    }
}
