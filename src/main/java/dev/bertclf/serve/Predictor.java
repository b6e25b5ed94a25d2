package dev.bertclf.serve;

import java.util.List;

/** Class probabilities for texts: {@code [texts, labels]}. Called from one thread at a time. */
@FunctionalInterface
public interface Predictor {
    float[][] predict(List<String> texts);
}
