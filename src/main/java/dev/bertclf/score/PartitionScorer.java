package dev.bertclf.score;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Explainer;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Scores one partition on an executor: rows are taken {@code batchSize} at a time, each batch is one forward pass
 * (padded to its longest text), and each row comes out as its kept columns, the label (the labels, joined, for a
 * multi-label run) and one probability per label, then, when {@code explainTopK > 0}, the words that weighed most in
 * that decision ({@link dev.bertclf.model.Explainer.Explained#topWords}, as JSON) and the largest completeness gap of
 * their explanations. Rows stream through; a partition is never held in memory whole.
 *
 * @param runDir      the run folder, readable by every executor
 * @param textIndex   position of the text column in the input rows
 * @param keptIndexes positions of the input columns copied to the output
 * @param threads     ND4J threads per forward pass (0 = the executor decides: its cores, else its machine's)
 * @param precision   the forward passes' ({@code inference.precision})
 * @param explainTopK words per explained label added to each row (0: none)
 * @param explain     how explanations are computed (the driver's settings)
 * @param done        rows scored so far, for the driver's progress bar
 */
record PartitionScorer(String runDir, int textIndex, int[] keptIndexes, int batchSize, int threads,
                       Settings.Precision precision, int explainTopK, Settings.ExplainSettings explain,
                       LongAccumulator done)
        implements MapPartitionsFunction<Row, Row> {

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        if (!rows.hasNext()) {
            return rows;
        }
        ExecutorModels.Model model = ExecutorModels.model(runDir, threads, precision);
        return new Iterator<>() {
            private final ArrayDeque<Row> scored = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                if (scored.isEmpty() && rows.hasNext()) {
                    scoreBatch(model, rows, scored);
                }
                return !scored.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return scored.removeFirst();
            }
        };
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void scoreBatch(ExecutorModels.Model model, Iterator<Row> rows, ArrayDeque<Row> out) {
        List<Row> batch = new ArrayList<>(batchSize);
        while (batch.size() < batchSize && rows.hasNext()) {
            batch.add(rows.next());
        }
        List<String> texts = batch.stream().map(r -> r.getString(textIndex)).toList();
        float[][] probs = model.predict(texts);
        int labels = model.labels().size();
        int added = 1 + labels + (explainTopK > 0 ? 2 : 0);
        for (int i = 0; i < batch.size(); i++) {
            Object[] values = new Object[keptIndexes.length + added];
            for (int k = 0; k < keptIndexes.length; k++) {
                values[k] = batch.get(i).get(keptIndexes[k]);
            }
            int at = keptIndexes.length;
            values[at++] = model.task().decision(probs[i]);
            for (int j = 0; j < labels; j++) {
                values[at++] = (double) probs[i][j];
            }
            if (explainTopK > 0) {
                Explainer.Explained e = model.explain(texts.get(i), explain);
                values[at++] = json(e.topWords(explainTopK));
                values[at] = e.largestGap();
            }
            out.add(RowFactory.create(values));
        }
        done.add(batch.size());
    }
}
