package dev.bertclf.nd4jfix.repair;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.WeakReference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImportGarbageCollectionTest {
    static final int ARRAYS = 24;
    static final long ARRAY_BYTES = 100L << 20;

    @Test
    void arraysDroppedDuringTheWorkAreFreedBeforeTheyAddUpAndTheCollectorStopsWithIt() throws Exception {
        System.gc();
        long before = Pointer.physicalBytes();
        WeakReference<?>[] first = new WeakReference<?>[1];

        long peak = ImportGarbageCollection.during(() -> {
            long max = before;
            for (int i = 0; i < ARRAYS; i++) { // as the importer does: a native array made, used once, dropped
                INDArray garbage = Nd4j.valueArrayOf(new long[]{ARRAY_BYTES / Float.BYTES}, 1f, DataType.FLOAT);
                if (i == 0) {
                    first[0] = new WeakReference<>(garbage);
                }
                max = Math.max(max, Pointer.physicalBytes());
                sleep(ImportGarbageCollection.CHECK_MS + 50);
            }
            return max;
        });

        assertNull(first[0].get(), "the first array was collected while the work ran");
        assertTrue(peak - before < ARRAYS * ARRAY_BYTES * 3 / 4, "resident memory grew by "
                + (peak - before) / (1 << 20) + " MB, not by all " + ARRAYS * ARRAY_BYTES / (1 << 20) + " MB");
        Thread.sleep(ImportGarbageCollection.CHECK_MS * 2);
        assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("import-garbage-collection")), "the collector stopped");
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
