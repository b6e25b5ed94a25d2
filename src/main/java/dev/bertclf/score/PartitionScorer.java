package dev.bertclf.score;

import dev.bertclf.config.Settings;
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
 * multi-label run) and one probability per label. Rows stream through; a partition is never held in memory whole.
 *
 * @param runDir      the run folder, readable by every executor
 * @param textIndex   position of the text column in the input rows
 * @param keptIndexes positions of the input columns copied to the output
 * @param threads     ND4J threads per forward pass (0 = the executor decides: its cores, else its machine's)
 * @param precision   the forward passes' ({@code inference.precision})
 * @param done        rows scored so far, for the driver's progress bar
 */
record PartitionScorer(String runDir, int textIndex, int[] keptIndexes, int batchSize, int threads,
                       Settings.Precision precision, LongAccumulator done)
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

    private void scoreBatch(ExecutorModels.Model model, Iterator<Row> rows, ArrayDeque<Row> out) {
        List<Row> batch = new ArrayList<>(batchSize);
        while (batch.size() < batchSize && rows.hasNext()) {
            batch.add(rows.next());
        }
        float[][] probs = model.predict(batch.stream().map(r -> r.getString(textIndex)).toList());
        int labels = model.labels().size();
        for (int i = 0; i < batch.size(); i++) {
            Object[] values = new Object[keptIndexes.length + 1 + labels];
            for (int k = 0; k < keptIndexes.length; k++) {
                values[k] = batch.get(i).get(keptIndexes[k]);
            }
            values[keptIndexes.length] = model.task().decision(probs[i]);
            for (int j = 0; j < labels; j++) {
                values[keptIndexes.length + 1 + j] = (double) probs[i][j];
            }
            out.add(RowFactory.create(values));
        }
        done.add(batch.size());
    }
}
