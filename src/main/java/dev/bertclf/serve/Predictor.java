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

    /** How many windows a text is read in: 1 unless the model reads long texts in windows. */
    default int windows(String text) {
        return 1;
    }

    /** The word pieces of one window, where the predictor reads long texts in windows (0 where it does not). */
    default int windowLength() {
        return 0;
    }

    /** Texts read a pass of at most {@code passRows} windows at a time, for a predictor that reads in windows. */
    default Reading read(List<String> texts, int passRows) {
        throw new UnsupportedOperationException("this predictor does not read texts in windows");
    }

    /** Texts being read one pass at a time. */
    interface Reading {
        /** Runs one pass; true once the texts are read. */
        boolean step();

        Pass result();
    }
}
