package dev.bertclf.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Which word pieces of a long text to keep when it does not fit. {@code HEAD_TAIL} keeps the beginning and the end,
 * best on IMDB (Sun et al. 2019, "How to Fine-Tune BERT for Text Classification?").
 */
public enum Truncation {
    HEAD, TAIL, HEAD_TAIL;

    /** Parses {@code head}, {@code tail} or {@code head+tail}. */
    public static Truncation parse(String s) {
        return switch (s.trim().toLowerCase()) {
            case "head" -> HEAD;
            case "tail" -> TAIL;
            case "head+tail", "head_tail", "head-tail" -> HEAD_TAIL;
            default -> throw new IllegalArgumentException("unknown truncation '" + s + "' (head, tail or head+tail)");
        };
    }

    /**
     * Keeps at most {@code budget} tokens.
     *
     * @param headFraction for {@code HEAD_TAIL}: the share of the budget taken from the beginning
     */
    public <T> List<T> apply(List<T> tokens, int budget, double headFraction) {
        if (tokens.size() <= budget) {
            return tokens;
        }
        return switch (this) {
            case HEAD -> new ArrayList<>(tokens.subList(0, budget));
            case TAIL -> new ArrayList<>(tokens.subList(tokens.size() - budget, tokens.size()));
            case HEAD_TAIL -> {
                int head = (int) Math.round(budget * headFraction);
                List<T> kept = new ArrayList<>(tokens.subList(0, head));
                kept.addAll(tokens.subList(tokens.size() - (budget - head), tokens.size()));
                yield kept;
            }
        };
    }
}
