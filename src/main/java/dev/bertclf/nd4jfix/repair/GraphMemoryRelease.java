package dev.bertclf.nd4jfix.repair;

import org.nd4j.autodiff.samediff.ArrayHolder;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * Frees the native memory of a graph that is no longer used: the arrays its inference sessions hold for reuse, then
 * its weights and constants.
 *
 * <p><b>Symptom:</b> a server that swaps in a newer model keeps the old one's native memory: resident memory grows
 * by the size of the weights (0.4 GB for BERT-base in float32) and the session's pooled outputs at every swap.
 * <p><b>Cause:</b> a SameDiff graph has no {@code close}; its arrays' native memory is freed only when the garbage
 * collector happens to collect the small Java objects that hold them, and JavaCPP does not collect on memory
 * pressure here ({@code maxphysicalbytes=0}). Its inference sessions (one per thread) keep their memory managers'
 * arrays for the next pass.
 * <p><b>Guarded by:</b> {@code GraphMemoryReleaseTest} (every array of a loaded graph and of its session's pool is
 * closed, and a second graph loaded from the same file still computes the same probabilities); resident memory
 * over swaps is reported by {@code BenchmarkServe --operations}.
 * <p><b>Remove when:</b> SameDiff can be closed.
 */
public final class GraphMemoryRelease {
    private GraphMemoryRelease() {
    }

    /** Closes {@code sd}'s sessions' memory managers and its variables' and constants' arrays; returns how many. */
    public static int release(SameDiff sd) {
        for (InferenceSession s : new ArrayList<>(sd.getSessions().values())) {
            if (s.getMmgr() != null) {
                s.getMmgr().close();
            }
        }
        sd.getSessions().clear();
        int closed = 0;
        for (ArrayHolder h : List.of(sd.getVariablesArrays(), sd.getConstantArrays())) {
            for (String name : new ArrayList<>(h.arrayNames())) {
                INDArray a = h.removeArray(name);
                if (a != null && !a.wasClosed() && a.closeable()) {
                    a.close();
                    closed++;
                }
            }
        }
        return closed;
    }
}
