package dev.bertclf.nd4jfix;

import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Matrix products from bfloat16-rounded inputs with float32 accumulation and outputs, for training
 * ({@code train.precision = bf16}): inside {@link #during}, every float32 {@code matmul} and {@code matmul_bp} the
 * calling thread runs (the dense layers' {@code [rows, in]·[in, out]} and their two gradient products, the
 * attention's batched products) rounds its two inputs to bf16 and runs on oneDNN's bf16 {@code matmul}, whose
 * output stays float32; weights, gradients, optimizer state and every other op stay float32 (bf16 "mixed precision",
 * float32 master weights).
 *
 * <p><b>Symptom:</b> M2.1's own bf16 products run at half its float32 speed (the FFN product of a 16×128 batch
 * 77 ms against 38 ms on an Intel Xeon with AVX512-BF16), so bf16 arrays in the graph would make training slower;
 * oneDNN 2.5's bf16 {@code matmul} runs the same product in 27 ms against 51–65 ms in float32 on an AMD EPYC with
 * AVX512-BF16 ({@code brg:avx512_core_bf16}), and uses AMX's tiles where the CPU has them.
 * <p><b>Cause:</b> libnd4j's {@code matmul} for bf16 is its generic per-element loop; its oneDNN helper takes
 * float32 only, and M2.1's bf16 arrays would also make the products' outputs, and so the gradients, bf16.
 * <p><b>Guarded by:</b> {@code Bf16ProductsTest} (every transposition of {@code matmul} and {@code matmul_bp}, rank 2
 * and 3, against libnd4j's float32 kernels on the bf16-rounded inputs; that oneDNN computed them in bf16; that
 * nothing changes outside {@link #during}; a tiny graph's training losses near float32's).
 * <p><b>Remove when:</b> libnd4j sends bf16 products to oneDNN with float32 outputs (or SameDiff offers mixed
 * precision training).
 */
public final class Bf16Products {
    private static final ThreadLocal<Boolean> ACTIVE = ThreadLocal.withInitial(() -> false);
    static final AtomicLong COMPUTED = new AtomicLong();
    static final AtomicLong FELL_BACK = new AtomicLong();

    private Bf16Products() {
    }

    /**
     * Runs {@code work} with the calling thread's float32 products in bf16 (see above). Fails where the products cannot
     * run on oneDNN: ND4J's executioner is not libnd4j's CPU one (the CUDA backend) or oneDNN did not load.
     */
    public static void during(Runnable work) {
        if (!OneDnnKernels.install()) {
            throw new IllegalStateException("train.precision = bf16 needs ND4J's CPU backend with oneDNN (this JVM"
                    + " has " + Nd4j.getBackend().getClass().getSimpleName()
                    + "); use train.precision = fp32");
        }
        boolean outer = ACTIVE.get();
        ACTIVE.set(true);
        try {
            work.run();
        } finally {
            ACTIVE.set(outer);
        }
    }

    /** Whether the calling thread is inside {@link #during}. */
    static boolean active() {
        return ACTIVE.get();
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
}
