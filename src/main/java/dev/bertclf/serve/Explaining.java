package dev.bertclf.serve;

import dev.bertclf.model.Explainer;

/**
 * How a served model explains a text, one forward+backward pass at a time (its {@code model.Explainer}, or a
 * stand-in in tests), so that the pass thread can run other work between passes.
 */
@FunctionalInterface
public interface Explaining {
    /** An explanation in progress. */
    interface Steps {
        /** Runs the next pass; true once the explanation is complete. */
        boolean step();

        Explainer.Explained result();
    }

    /**
     * Starts explaining {@code text}'s score for {@code label}, or for what the model chose when it is null, in
     * passes of at most {@code unitWordPieces} word pieces.
     */
    Steps start(String text, String label, long unitWordPieces);
}
