package dev.bertclf.nd4jfix;

/**
 * Frees the off-heap memory of the arrays a training or evaluation step left behind, once per step.
 *
 * <p><b>Symptom:</b> off-heap memory grows by about 0.35 GB per training step (batch 16, 128 tokens) until the
 * process is killed.
 * <p><b>Cause:</b> the arrays of a step that the session does not close itself (outputs handed to listeners,
 * gradient and updater temporaries) are freed by JavaCPP's deallocator only when their Java objects are collected,
 * and the small Java objects put little pressure on the heap, so collections are rare. {@code System.gc()} after
 * each step keeps resident memory flat.
 * <p><b>Guarded by:</b> nothing automatic; peak RSS is reported by {@code BenchmarkTraining}.
 * <p><b>Remove when:</b> the session closes each array after its last use (a {@code SessionMemMgr} policy) and
 * {@code BenchmarkTraining} shows flat RSS without the collection.
 */
public final class OffHeapRelease {
    private OffHeapRelease() {
    }

    /** Call after each step (its outputs read): collects the step's arrays so their native memory is freed. */
    public static void afterStep() {
        System.gc();
    }
}
