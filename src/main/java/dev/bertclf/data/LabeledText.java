package dev.bertclf.data;

import java.util.List;

/**
 * One example as read from a file: raw text and its labels (one for single-label data, any number for multi-label
 * data, none when unlabelled).
 *
 * @param line 1-based line number in the source file (for error messages), or 0 when not from a file
 */
public record LabeledText(String text, List<String> labels, long line) {
    public LabeledText {
        labels = List.copyOf(labels);
    }

    /** A single-label (or, with null, unlabelled) example. */
    public LabeledText(String text, String label, long line) {
        this(text, label == null ? List.of() : List.of(label), line);
    }

    /** The example's label: its only one, or its first of several; null when unlabelled. */
    public String label() {
        return labels.isEmpty() ? null : labels.get(0);
    }
}
