package dev.bertclf.data;

import org.deeplearning4j.iterator.LabeledSentenceProvider;
import org.nd4j.common.primitives.Pair;

import java.util.List;

/**
 * Gives examples in list order with a fixed label set, so label indices are the same in every split and batch
 * (DL4J's CollectionLabeledSentenceProvider derives the labels from the examples it holds). Shuffling is done by
 * the caller, per epoch, with a seed, so a resumed run sees the same order.
 */
public final class OrderedSentenceProvider implements LabeledSentenceProvider {
    private final List<LabeledText> examples;
    private final List<String> labels;
    private int cursor;

    public OrderedSentenceProvider(List<LabeledText> examples, List<String> labels) {
        this.examples = examples;
        this.labels = labels;
    }

    @Override
    public boolean hasNext() {
        return cursor < examples.size();
    }

    @Override
    public Pair<String, String> nextSentence() {
        LabeledText t = examples.get(cursor++);
        // a multi-label text without labels gets a stand-in, which MultiHotLabels replaces
        return new Pair<>(t.text(), t.labels().isEmpty() ? labels.get(0) : t.label());
    }

    /** How many examples have been given since the last reset: the end of the batch just built. */
    public int position() {
        return cursor;
    }

    public List<LabeledText> examples() {
        return examples;
    }

    @Override
    public void reset() {
        cursor = 0;
    }

    @Override
    public int totalNumSentences() {
        return examples.size();
    }

    @Override
    public List<String> allLabels() {
        return labels;
    }

    @Override
    public int numLabelClasses() {
        return labels.size();
    }
}
