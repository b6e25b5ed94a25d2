package dev.bertclf.nd4jfix.speed;

import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Two libnd4j kernels that M2.1 runs far below the CPU's speed, run on bytedeco's oneDNN 2.5 instead, with libnd4j's
 * arguments and meaning: the batched matrix products ({@code matmul} and {@code matmul_bp} of rank 3 and more: BERT's
 * attention scores {@code Q·Kᵀ}, {@code [batch, heads, seqLen, 64]·[batch, heads, seqLen, 64]ᵀ}, its probabilities
 * times {@code V}, and their gradients) and LayerNorm's forward kernel ({@code layer_norm}, also under
 * {@link DecomposedLayerNormGradient}'s name). Same values up to float rounding (summation order).
 *
 * <p><b>Symptom:</b> libnd4j computes the attention's batched products at a fraction of the speed of its dense
 * layers' products, and {@code layer_norm} tens of times slower than oneDNN; together a large share of a training
 * step and of a forward pass (figures: docs/engine-workarounds.md, docs/performance.md).
 * <p><b>Cause:</b> M2.1's oneDNN helper for {@code matmul} accepts only inputs of rank below 3 (its platform check),
 * so batched products fall through to {@code MmulHelper}'s per-element loop, and no other M2.1 op batches a GEMM
 * over one array; {@code layer_norm} has no oneDNN helper at all and computes the rows' deviations with libnd4j's
 * summary-statistics kernel. ND4J runs every op through its {@link OpExecutioner}, so {@link #install()} makes the
 * JVM's executioner a {@link OneDnnExecutioner}, which sends the calls {@link OneDnnProducts} and
 * {@link OneDnnLayerNorm} take (float32; batched products without broadcasting; LayerNorm over the last axis of rows
 * laid out one after the other) to oneDNN, and everything else to libnd4j as before. Graphs and the model cache do not
 * change. It also runs {@link FusedGelu}'s ops, which have no libnd4j kernel, on oneDNN's {@code gelu_tanh}.
 * <p><b>Guarded by:</b> {@code OneDnnKernelsTest} (every transposition, rank 3 and 4, alpha and beta, forward and
 * gradient; LayerNorm of rank 2 and 3 and rows of tiny variance: all against libnd4j's own kernels, and that oneDNN
 * computed them), {@code BertParityTest} (against TF, and that BERT's products and LayerNorms ran on oneDNN), and
 * the training tests.
 * <p><b>Remove when:</b> libnd4j sends batched products and {@code layer_norm} to oneDNN itself (its matmul platform
 * check accepts rank 3; a {@code layer_norm} platform helper exists).
 */
public final class OneDnnKernels {
    private static final Logger LOG = LoggerFactory.getLogger(OneDnnKernels.class);
    private static final String CPU_EXECUTIONER = "org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner";
    static final AtomicLong PRODUCTS = new AtomicLong();
    static final AtomicLong LAYER_NORMS = new AtomicLong();
    static final AtomicLong GELUS = new AtomicLong();
    /** Whether {@link #install()} replaced the executioner; null before it was first called. */
    private static Boolean installed;
    /** Whether this JVM keeps libnd4j's executioner ({@code engine.kernels = reference}). */
    private static boolean refused;

    private OneDnnKernels() {
    }

    /**
     * Makes ND4J's executioner a {@link OneDnnExecutioner}, once per JVM; returns whether it is one. Leaves any other
     * backend's (CUDA's) alone, and libnd4j's when oneDNN's library cannot load (with a warning).
     */
    public static synchronized boolean install() {
        if (refused) {
            return false;
        }
        if (installed == null) {
            installed = replaceExecutioner();
        }
        return installed;
    }

    private static boolean replaceExecutioner() {
        OpExecutioner current = Nd4j.getExecutioner();
        // by name: under the CUDA backend libnd4j's CPU classes are not there
        if (!current.getClass().getName().equals(CPU_EXECUTIONER)) {
            return false;
        }
        try {
            // loads oneDNN's library now rather than inside the first kernel
            Class.forName(OneDnn.class.getName(), true, OneDnn.class.getClassLoader());
            OpExecutioner replacement = OneDnnExecutioner.replacing(current);
            Field instance = Nd4j.class.getDeclaredField("OP_EXECUTIONER_INSTANCE");
            instance.setAccessible(true);
            instance.set(null, replacement);
            return true;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            LOG.warn("Batched matrix products and LayerNorm stay on libnd4j's slower kernels: oneDNN is not available"
                    + " ({})", e.toString());
            return false;
        }
    }

    /**
     * Whether this JVM keeps libnd4j's executioner: {@link #install()} then installs nothing and returns false. Refused
     * once the executioner has been replaced.
     */
    public static synchronized void refuse(boolean refuse) {
        if (refuse && Boolean.TRUE.equals(installed)) {
            throw new IllegalStateException("the oneDNN kernels are installed in this JVM already");
        }
        refused = refuse;
    }

    /** Matrix products oneDNN computed in this JVM so far (two per {@code matmul_bp}). */
    public static long products() {
        return PRODUCTS.get();
    }

    /** {@link FusedGelu}'s GELUs and GELU gradients oneDNN computed in this JVM so far. */
    public static long gelus() {
        return GELUS.get();
    }

    /** LayerNorms oneDNN computed in this JVM so far. */
    public static long layerNorms() {
        return LAYER_NORMS.get();
    }

    /**
     * Runs {@code work} on this thread with every op that libnd4j has a kernel for computed by libnd4j, as without
     * {@link #install()}: the reference the oneDNN kernels are checked against on a real model. {@link FusedGelu}'s
     * ops, which only oneDNN runs, still run there.
     */
    public static <T> T inLibnd4j(Supplier<T> work) {
        boolean outer = OneDnnExecutioner.LIBND4J_ONLY.get();
        OneDnnExecutioner.LIBND4J_ONLY.set(true);
        try {
            return work.get();
        } finally {
            OneDnnExecutioner.LIBND4J_ONLY.set(outer);
        }
    }

    /**
     * The instruction set bytedeco's oneDNN dispatches to in this process ({@code dnnl_get_effective_cpu_isa}: the
     * CPU's, narrowed by {@code ONEDNN_MAX_CPU_ISA} or {@code DNNL_MAX_CPU_ISA}), as oneDNN's bit mask; -1 where that
     * oneDNN does not load (the CUDA build's machines without it).
     */
    public static int dispatchedIsa() {
        try {
            return org.bytedeco.dnnl.global.dnnl.dnnl_get_effective_cpu_isa();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return -1;
        }
    }
}
