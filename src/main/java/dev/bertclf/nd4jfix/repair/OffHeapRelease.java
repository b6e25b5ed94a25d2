package dev.bertclf.nd4jfix.repair;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.ArrayList;
import java.util.List;

/**
 * Frees the native memory of each training step's gradients as soon as the step has applied them: a listener that
 * collects every gradient SameDiff hands to the updater and closes them when the step is done, then collects the
 * step's garbage.
 *
 * <p><b>Symptom:</b> off-heap memory grows by about 0.35 GB per training step of BERT-base (the size of its
 * gradients) until the process is killed.
 * <p><b>Cause:</b> M2.1's {@code TrainingSession} requests the gradients as outputs of the step, so its session
 * never releases them, and nothing else closes them: their native memory is freed only when the garbage collector
 * happens to collect the small Java objects that hold them. A {@code System.gc()} after each step alone holds
 * memory flat, but higher; closing the gradients alone lets the Java heap fill with the step's other garbage up to
 * {@code -Xmx} between collections, so peak RSS varies from run to run by gigabytes. Both together: the gradients
 * go at once, and the collection (about 0.1 s per step) keeps the heap small. See {@code docs/performance.md}.
 * <p><b>Guarded by:</b> {@code OffHeapReleaseTest} (the gradients are closed, and training with the listener
 * computes exactly what training without it computes) and {@code ResumeAfterKillTest}; peak RSS is reported by
 * {@code BenchmarkTraining}.
 * <p><b>Remove when:</b> a newer ND4J closes a step's gradients after the update.
 */
public final class OffHeapRelease extends BaseListener {
    private final List<INDArray> gradients = new ArrayList<>();

    @Override
    public boolean isActive(Operation operation) {
        return operation == Operation.TRAINING;
    }

    @Override
    public void preUpdate(SameDiff sd, At at, Variable v, INDArray update) {
        gradients.add(update);
    }

    @Override
    public void iterationDone(SameDiff sd, At at, MultiDataSet data, Loss loss) {
        for (INDArray g : gradients) {
            if (g.closeable()) {
                g.close();
            }
        }
        gradients.clear();
        System.gc();
    }

    /** How many gradients the current step has handed over so far (for tests). */
    int pending() {
        return gradients.size();
    }

    /**
     * After an inference batch whose outputs were read: collects the batch's arrays, which M2.1 frees only when
     * their Java objects are collected.
     */
    public static void afterInferenceBatch() {
        System.gc();
    }
}
