package dev.bertclf.nd4jfix.speed;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Matrix products from bfloat16-rounded inputs with float32 accumulation and outputs, for training
 * ({@code train.precision = bf16}) and inference ({@code inference.precision = bf16}): inside {@link #during},
 * every float32 {@code matmul} and {@code matmul_bp} the calling thread runs (the dense layers'
 * {@code [rows, in]·[in, out]} and their two gradient products, the attention's batched products) rounds its two
 * inputs to bf16 and runs on oneDNN's bf16 {@code matmul}, whose output stays float32; weights, gradients,
 * optimizer state and every other op stay float32 (bf16 "mixed precision", float32 master weights). In inference the
 * graph's weights do not change between passes, so {@link RoundedWeights} keeps their bf16 copies for as long as the
 * weights stay as they are, instead of rounding them again in every pass.
 *
 * <p><b>Symptom:</b> M2.1's own bf16 products run at about half its float32 speed, so bf16 arrays in the graph would
 * make training slower; oneDNN 2.5's bf16 {@code matmul} runs the same product about twice as fast as float32 on a CPU
 * with AVX512-BF16 ({@code brg:avx512_core_bf16}), and uses AMX's tiles where the CPU has them (figures:
 * {@code BenchmarkGemm}, docs/measurements.md).
 * <p><b>Cause:</b> libnd4j's {@code matmul} for bf16 is its generic per-element loop; its oneDNN helper takes
 * float32 only, and M2.1's bf16 arrays would also make the products' outputs, and so the gradients, bf16.
 * <p><b>Guarded by:</b> {@code Bf16ProductsTest} (every transposition of {@code matmul} and {@code matmul_bp}, rank 2
 * and 3, against libnd4j's float32 kernels on the bf16-rounded inputs; that oneDNN computed them in bf16; that
 * nothing changes outside {@link #during}; a tiny graph's training losses near float32's; its inference from kept
 * weights equal to inference that rounds them in every pass, each weight rounded once).
 * <p><b>Remove when:</b> libnd4j sends bf16 products to oneDNN with float32 outputs (or SameDiff offers mixed
 * precision training).
 */
public final class Bf16Products {
    /** The calling thread's scope: null outside {@link #during}, {@link RoundedWeights#NONE} in training. */
    private static final ThreadLocal<RoundedWeights> SCOPE = new ThreadLocal<>();
    static final AtomicLong COMPUTED = new AtomicLong();
    static final AtomicLong FELL_BACK = new AtomicLong();

    private Bf16Products() {
    }

    /**
     * Runs {@code work} with the calling thread's float32 products in bf16 (see above), every product rounding both
     * its inputs: for training, whose weights change in every step. Fails where the products cannot run on oneDNN:
     * ND4J's executioner is not libnd4j's CPU one (the CUDA backend) or oneDNN did not load.
     */
    public static void during(Runnable work) {
        during(RoundedWeights.NONE, () -> {
            work.run();
            return null;
        });
    }

    /**
     * As {@link #during(Runnable)}, taking the bf16 copies of {@code weights}' arrays that it keeps (made on first
     * use) rather than rounding them again: for inference, while the weights stay as they are.
     */
    public static <T> T during(RoundedWeights weights, Supplier<T> work) {
        if (!OneDnnKernels.install()) {
            throw new IllegalStateException("bf16 precision needs ND4J's CPU backend with oneDNN (this JVM has "
                    + Nd4j.getBackend().getClass().getSimpleName() + "); use fp32");
        }
        RoundedWeights outer = SCOPE.get();
        SCOPE.set(weights);
        try {
            return work.get();
        } finally {
            SCOPE.set(outer);
        }
    }

    /** Whether the calling thread is inside {@link #during}. */
    static boolean active() {
        return SCOPE.get() != null;
    }

    /** The calling thread's kept bf16 copy of {@code x}, where {@code x} is one of its scope's weights; else null. */
    static INDArray keptCopy(INDArray x) {
        RoundedWeights scope = SCOPE.get();
        return scope == null ? null : scope.copyOf(x);
    }

    /** Products oneDNN computed from bf16 inputs in this JVM so far (two per {@code matmul_bp}). */
    public static long computed() {
        return COMPUTED.get();
    }

    /**
     * Float32 products asked for inside {@link #during} that oneDNN did not take (a layout it offers only its
     * reference loop for), so libnd4j computed them in float32; none in BERT's training.
     */
    public static long fellBack() {
        return FELL_BACK.get();
    }

    /**
     * The bf16 copies of a graph's weights for inference: each made when a product first takes that weight, then kept
     * until {@link #close}. Valid while the weights do not change: a trained classifier's whole life, or one
     * evaluation between training epochs. BERT-base's products take 85M weights: 170 MB of copies.
     */
    public static final class RoundedWeights implements AutoCloseable {
        /** Keeps nothing: every product rounds its inputs. */
        static final RoundedWeights NONE = new RoundedWeights(new IdentityHashMap<>());

        /** Each float32 weight array of the graph (by identity) to its bf16 copy, or to null until one is made. */
        private final Map<INDArray, INDArray> copies;

        private RoundedWeights(Map<INDArray, INDArray> copies) {
            this.copies = copies;
        }

        /** For the float32 arrays of {@code sd}'s variables and constants; copies nothing yet. */
        public static RoundedWeights of(SameDiff sd) {
            Map<INDArray, INDArray> copies = new IdentityHashMap<>();
            for (SDVariable v : sd.variables()) {
                if ((v.getVariableType() == VariableType.VARIABLE || v.getVariableType() == VariableType.CONSTANT)
                        && v.dataType() == DataType.FLOAT && v.getArr() != null) {
                    copies.put(v.getArr(), null);
                }
            }
            return new RoundedWeights(copies);
        }

        /** The bf16 copy of {@code x} where it is one of these weights (made now if none is yet), else null. */
        synchronized INDArray copyOf(INDArray x) {
            if (!copies.containsKey(x)) {
                return null;
            }
            INDArray copy = copies.get(x);
            if (copy == null) {
                copy = x.castTo(DataType.BFLOAT16);
                copies.put(x, copy);
            }
            return copy;
        }

        /** How many weights have a bf16 copy. */
        public synchronized int kept() {
            return (int) copies.values().stream().filter(c -> c != null).count();
        }

        /** Frees the copies; later products round these weights again (and keep nothing). */
        @Override
        public synchronized void close() {
            copies.values().stream().filter(c -> c != null).forEach(INDArray::close);
            copies.clear();
        }
    }
}
