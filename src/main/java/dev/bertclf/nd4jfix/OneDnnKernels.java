package dev.bertclf.nd4jfix;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two libnd4j kernels that M2.1 runs far below the CPU's speed, run on bytedeco's oneDNN 2.5 instead, with libnd4j's
 * arguments and meaning: the batched matrix products ({@code matmul} and {@code matmul_bp} of rank 3 and more: BERT's
 * attention scores {@code Q·Kᵀ}, {@code [batch, heads, seqLen, 64]·[batch, heads, seqLen, 64]ᵀ}, its probabilities
 * times {@code V}, and their gradients) and LayerNorm's forward kernel ({@code layer_norm}, also under
 * {@link DecomposedLayerNormGradient}'s name). Same values up to float rounding (summation order).
 *
 * <p><b>Symptom:</b> on a 2-core AMD EPYC, {@code Q·Kᵀ} at 16×128 takes 8–15 ms in libnd4j (40–60 GFLOP/s, where
 * the dense layers' products run at about 300) and 1–3 ms in oneDNN; {@code layer_norm} on {@code [2048, 768]}
 * takes 7.4 ms in libnd4j and 0.2 ms in oneDNN (on {@code [16, 768]}, a short text's, 0.2 ms against 7 µs). Together
 * a fifth of a 16×128 training step, and more of a forward pass.
 * <p><b>Cause:</b> M2.1's oneDNN helper for {@code matmul} accepts only inputs of rank below 3 (its platform check),
 * so batched products fall through to {@code MmulHelper}'s per-element loop, and no other M2.1 op batches a GEMM
 * over one array; {@code layer_norm} has no oneDNN helper at all and computes the rows' deviations with libnd4j's
 * summary-statistics kernel. ND4J runs every op through its {@link OpExecutioner}, so {@link #install()} makes the
 * JVM's executioner an {@link Executioner}, which sends the calls {@link OneDnnProducts} and {@link OneDnnLayerNorm}
 * take (float32; batched products without broadcasting; LayerNorm over the last axis of rows laid out one after the
 * other) to oneDNN, and everything else to libnd4j as before. Graphs and the model cache do not change.
 * <p><b>Guarded by:</b> {@code OneDnnKernelsTest} (every transposition, rank 3 and 4, alpha and beta, forward and
 * gradient; LayerNorm of rank 2 and 3 and rows of tiny variance: all against libnd4j's own kernels, and that oneDNN
 * computed them), {@code BertParityTest} (against TF, and that BERT's products and LayerNorms ran on oneDNN), and
 * the training tests.
 * <p><b>Remove when:</b> libnd4j sends batched products and {@code layer_norm} to oneDNN itself (its matmul platform
 * check accepts rank 3; a {@code layer_norm} platform helper exists).
 */
public final class OneDnnKernels {
    private static final Logger LOG = LoggerFactory.getLogger(OneDnnKernels.class);
    private static final String MATMUL = "matmul";
    private static final String MATMUL_BP = "matmul_bp";
    private static final String LAYER_NORM = "layer_norm";

    private OneDnnKernels() {
    }

    /**
     * Makes ND4J's executioner an {@link Executioner}, once per JVM; returns whether it is one. Leaves any other
     * backend's (CUDA's) alone, and libnd4j's when oneDNN's library cannot load (with a warning).
     */
    public static synchronized boolean install() {
        OpExecutioner current = Nd4j.getExecutioner();
        if (current instanceof Executioner) {
            return true;
        }
        if (current.getClass() != NativeOpExecutioner.class) {
            return false;
        }
        try {
            // loads oneDNN's library now rather than inside the first kernel
            Class.forName(OneDnn.class.getName(), true, OneDnn.class.getClassLoader());
            Executioner replacement = new Executioner();
            replacement.setProfilingMode(current.getProfilingMode());
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

    /** Matrix products oneDNN computed in this JVM so far (two per {@code matmul_bp}). */
    public static long products() {
        return Nd4j.getExecutioner() instanceof Executioner e ? e.products.get() : 0;
    }

    /** LayerNorms oneDNN computed in this JVM so far. */
    public static long layerNorms() {
        return Nd4j.getExecutioner() instanceof Executioner e ? e.layerNorms.get() : 0;
    }

    /** libnd4j's executioner, with the calls that oneDNN takes sent there. */
    static final class Executioner extends NativeOpExecutioner {
        private final AtomicLong products = new AtomicLong();
        private final AtomicLong layerNorms = new AtomicLong();

        @Override
        public INDArray[] exec(CustomOp op, OpContext context) {
            String name = op.opName();
            boolean done = switch (name) {
                case MATMUL, MATMUL_BP -> runProducts(op, context);
                case LAYER_NORM, DecomposedLayerNormGradient.LAYER_NORM -> runLayerNorm(op, context);
                default -> false;
            };
            if (done) {
                List<INDArray> out = context.getOutputArrays();
                return out.toArray(new INDArray[0]);
            }
            return super.exec(op, context);
        }

        /** libnd4j's result, for tests. */
        INDArray[] execInLibnd4j(CustomOp op, OpContext context) {
            return super.exec(op, context);
        }

        private boolean runProducts(CustomOp op, OpContext context) {
            List<INDArray> in = context.getInputArrays();
            List<INDArray> out = context.getOutputArrays();
            long[] i = op.iArgs();
            double[] t = op.tArgs();
            boolean tx = i.length > 0 && i[0] != 0;
            boolean ty = i.length > 1 && i[1] != 0;
            boolean tz = i.length > 2 && i[2] != 0;
            double alpha = t.length > 0 ? t[0] : 1.0;
            double beta = t.length > 1 ? t[1] : 0.0;
            Product[] products;
            if (MATMUL.equals(op.opName())) {
                if (in.size() != 2 || out.size() != 1) {
                    return false;
                }
                products = new Product[] {Product.of(in.get(0), in.get(1), out.get(0), tx, ty, tz, alpha, beta)};
            } else {
                if (in.size() != 3 || out.size() != 2) {
                    return false;
                }
                INDArray x = in.get(0), y = in.get(1), eps = in.get(2);
                // libnd4j's matmul_bp: these two matmuls
                products = new Product[] {Product.of(eps, y, out.get(0), tz, !ty, tx, alpha, beta),
                        Product.of(x, eps, out.get(1), !tx, tz, ty, alpha, beta)};
            }
            OneDnn.Primitive[] ready = new OneDnn.Primitive[products.length];
            for (int k = 0; k < products.length; k++) {
                ready[k] = products[k] == null ? null : products[k].prepare();
                if (ready[k] == null) {
                    return false; // all or nothing: with beta != 0 a product must not run twice
                }
            }
            long start = profilingConfigurableHookIn(op, context);
            for (int k = 0; k < products.length; k++) {
                ready[k].run(products[k].a, products[k].b, products[k].c);
            }
            this.products.addAndGet(products.length);
            profilingConfigurableHookOut(op, context, start);
            return true;
        }

        private boolean runLayerNorm(CustomOp op, OpContext context) {
            List<INDArray> in = context.getInputArrays();
            List<INDArray> out = context.getOutputArrays();
            boolean[] b = op.bArgs();
            if (in.size() != 3 || out.size() != 1 || (b.length > 0 && b[0])) { // channels first: not BERT's
                return false;
            }
            INDArray x = in.get(0), gamma = in.get(1), beta = in.get(2), z = out.get(0);
            if (!OneDnnLayerNorm.fits(x, gamma, beta, z, op.iArgs())) {
                return false;
            }
            OneDnn.Primitive p = OneDnnLayerNorm.prepare(x, gamma, beta, z, op.iArgs());
            if (p == null) {
                return false;
            }
            long start = profilingConfigurableHookIn(op, context);
            p.run(x, gamma, beta, z);
            layerNorms.incrementAndGet();
            profilingConfigurableHookOut(op, context, start);
            return true;
        }
    }

    /** One product {@code c = alpha · op(a) · op(b) + beta · c}. */
    private record Product(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
        /** libnd4j's {@code matmul(x, y)} with flags {@code tx, ty, tz}, or null where oneDNN does not take it. */
        static Product of(INDArray x, INDArray y, INDArray z, boolean tx, boolean ty, boolean tz, double alpha,
                double beta) {
            // with tz: z = (op(x) · op(y))ᵀ = op(y)ᵀ · op(x)ᵀ, as libnd4j computes it
            Product p = tz ? new Product(y, !ty, x, !tx, z, alpha, beta) : new Product(x, tx, y, ty, z, alpha, beta);
            return OneDnnProducts.fits(p.a, p.ta, p.b, p.tb, p.c) ? p : null;
        }

        OneDnn.Primitive prepare() {
            return OneDnnProducts.prepare(a, ta, b, tb, c, alpha, beta);
        }
    }
}
