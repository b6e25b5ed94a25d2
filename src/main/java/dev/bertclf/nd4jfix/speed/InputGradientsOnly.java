package dev.bertclf.nd4jfix.speed;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Back-propagation to a graph's input alone: inside {@link #during}, a {@code matmul_bp} one of whose operands is one
 * of the given weights computes the other operand's gradient only, on oneDNN, and leaves the weight's gradient
 * output unwritten. An explanation needs the gradient of the word embeddings, not the weights'.
 *
 * <p><b>Symptom:</b> a backward pass to the input costs as much as a training step's: every dense layer's
 * {@code matmul_bp} computes the weight's gradient too, half of the backward pass's products.
 * <p><b>Cause:</b> SameDiff runs an op when any of its outputs is needed, and libnd4j's {@code matmul_bp} always
 * computes both products; nothing asks it for one.
 * <p><b>Guarded by:</b> {@code InputGradientsOnlyTest} (the input's gradient equals libnd4j's, the weight's is not
 * computed, nothing changes outside {@link #during}) and {@code ExplainerTest} (completeness and finite differences
 * of explanations, which run in this scope).
 * <p><b>Remove when:</b> SameDiff computes only the outputs of an op that a requested gradient needs.
 */
public final class InputGradientsOnly {
    private static final ThreadLocal<Weights> SCOPE = new ThreadLocal<>();
    static final AtomicLong SKIPPED = new AtomicLong();

    private InputGradientsOnly() {
    }

    /**
     * A graph's weights (its trainable variables' arrays), by the native address of their data: a backward pass may
     * hand an op another Java object over the same memory.
     */
    public record Weights(Set<Long> addresses) {
        public static Weights of(SameDiff sd) {
            Set<Long> addresses = new HashSet<>();
            for (SDVariable v : sd.variables()) {
                if (v.getVariableType() == VariableType.VARIABLE && v.getArr() != null) {
                    addresses.add(address(v.getArr()));
                }
            }
            return new Weights(addresses);
        }
    }

    private static long address(INDArray a) {
        return a.data().address() + a.offset() * a.dataType().width();
    }

    /** Runs {@code work} with the weight-gradient products of {@code weights}' {@code matmul_bp}s skipped. */
    public static <T> T during(Weights weights, Supplier<T> work) {
        Weights outer = SCOPE.get();
        SCOPE.set(weights);
        try {
            return work.get();
        } finally {
            SCOPE.set(outer);
        }
    }

    /** Whether the calling thread skips the gradient of {@code operand}. */
    static boolean skips(INDArray operand) {
        Weights w = SCOPE.get();
        return w != null && !operand.isView() && w.addresses().contains(address(operand));
    }

    /** Weight-gradient products skipped in this JVM so far. */
    public static long skipped() {
        return SKIPPED.get();
    }
}
