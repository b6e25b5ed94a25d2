package dev.bertclf.data;

/**
 * One example as read from a file: raw text and its label (null when unlabelled).
 *
 * @param line 1-based line number in the source file (for error messages), or 0 when not from a file
 */
public record LabeledText(String text, String label, long line) {
}
