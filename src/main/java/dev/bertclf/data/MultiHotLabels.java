package dev.bertclf.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * Replaces the one-hot labels of each batch that DL4J's {@code BertIterator} built (it carries one label per text) by
 * the texts' label sets, multi-hot {@code [batch, labels]}. The batch's rows are the provider's last ones: it gives
 * examples in list order, and the iterator has just taken them, so this holds across resets and skipped batches.
 */
final class MultiHotLabels implements MultiDataSetPreProcessor {
    private final OrderedSentenceProvider provider;
    private final List<String> labels;
    private final MultiDataSetPreProcessor then;

    /** @param then the pre-processor to run afterwards (dropout masks), or null */
    MultiHotLabels(OrderedSentenceProvider provider, List<String> labels, MultiDataSetPreProcessor then) {
        this.provider = provider;
        this.labels = labels;
        this.then = then;
    }

    @Override
    public void preProcess(MultiDataSet mds) {
        int rows = (int) mds.getFeatures(0).size(0);
        int end = provider.position();
        INDArray multiHot = Nd4j.zeros(DataType.FLOAT, rows, labels.size());
        for (int i = 0; i < rows; i++) {
            LabeledText t = provider.examples().get(end - rows + i);
            for (String l : t.labels()) {
                int j = labels.indexOf(l);
                if (j < 0) {
                    throw new DataException("label '" + l + "' of line " + t.line() + " is not one of " + labels);
                }
                multiHot.putScalar(i, j, 1.0);
            }
        }
        mds.setLabels(0, multiHot);
        if (then != null) {
            then.preProcess(mds);
        }
    }
}
