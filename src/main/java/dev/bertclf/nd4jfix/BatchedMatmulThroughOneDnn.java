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
 * Runs the batched matrix products (rank 3 and more: BERT's attention scores {@code Q·Kᵀ}, {@code [batch, heads,
 * seqLen, 64]·[batch, heads, seqLen, 64]ᵀ}, its probabilities times {@code V}, and their gradients) on oneDNN's
 * {@code matmul} primitive instead of libnd4j's loop. Same products, summed in another order (float rounding).
 *
 * <p><b>Symptom:</b> the attention's products run at 40–60 GFLOP/s where the dense layers' run at about 300: on a
 * 2-core AMD EPYC, {@code Q·Kᵀ} at 16×128 takes 8–10 ms in libnd4j and 1.8–1.9 ms in oneDNN; about 0.5 s of a
 * 16×128 training step and a tenth of an 8×128 forward pass.
 * <p><b>Cause:</b> M2.1's oneDNN helper for {@code matmul} accepts only inputs of rank below 3 (its platform check),
 * so batched products fall through to {@code MmulHelper}'s per-element loop; no other M2.1 op batches a BLAS GEMM
 * over views of one array. ND4J runs every op through its {@link OpExecutioner}, so {@link #install()} makes the JVM's
 * executioner an {@link Executioner}, which sends {@code matmul} and {@code matmul_bp} calls that
 * {@link OneDnnProducts} takes (float32, rank 3 or more, same batch dimensions, no broadcasting) to oneDNN, with
 * libnd4j's arguments and meaning (transpositions, alpha, beta), and everything else to libnd4j as before. The graph
 * and the model cache do not change.
 * <p><b>Guarded by:</b> {@code BatchedMatmulThroughOneDnnTest} (every transposition, rank 3 and 4, alpha and beta,
 * forward and gradient, against libnd4j's own kernels, and that oneDNN computed them), {@code BertParityTest}, and the
 * training tests.
 * <p><b>Remove when:</b> libnd4j sends batched products to oneDNN or a batched BLAS GEMM itself (its matmul platform
 * check accepts rank 3).
 */
public final class BatchedMatmulThroughOneDnn {
    private static final Logger LOG = LoggerFactory.getLogger(BatchedMatmulThroughOneDnn.class);
    private static final String MATMUL = "matmul";
    private static final String MATMUL_BP = "matmul_bp";

    private BatchedMatmulThroughOneDnn() {
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
            Executioner replacement = new Executioner();
            replacement.setProfilingMode(current.getProfilingMode());
            // loads oneDNN's library now rather than inside the first product
            Class.forName(OneDnnProducts.class.getName(), true, OneDnnProducts.class.getClassLoader());
            Field instance = Nd4j.class.getDeclaredField("OP_EXECUTIONER_INSTANCE");
            instance.setAccessible(true);
            instance.set(null, replacement);
            return true;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            LOG.warn("Batched matrix products stay in libnd4j's loop (slower): oneDNN is not available ({})",
                    e.toString());
            return false;
        }
    }

    /** Products computed by oneDNN in this JVM so far (two per {@code matmul_bp}). */
    public static long oneDnnProducts() {
        return Nd4j.getExecutioner() instanceof Executioner e ? e.products.get() : 0;
    }

    /** libnd4j's executioner, with the batched products that {@link OneDnnProducts} takes sent there. */
    static final class Executioner extends NativeOpExecutioner {
        private final AtomicLong products = new AtomicLong();

        @Override
        public INDArray[] exec(CustomOp op, OpContext context) {
            String name = op.opName();
            if ((MATMUL.equals(name) || MATMUL_BP.equals(name)) && runOnOneDnn(op, context)) {
                List<INDArray> out = context.getOutputArrays();
                return out.toArray(new INDArray[0]);
            }
            return super.exec(op, context);
        }

        /** libnd4j's result, for tests. */
        INDArray[] execInLibnd4j(CustomOp op, OpContext context) {
            return super.exec(op, context);
        }

        private boolean runOnOneDnn(CustomOp op, OpContext context) {
            List<INDArray> in = context.getInputArrays();
            List<INDArray> out = context.getOutputArrays();
            long[] i = op.iArgs();
            double[] t = op.tArgs();
            boolean tx = i.length > 0 && i[0] != 0;
            boolean ty = i.length > 1 && i[1] != 0;
            boolean tz = i.length > 2 && i[2] != 0;
            double alpha = t.length > 0 ? t[0] : 1.0;
            double beta = t.length > 1 ? t[1] : 0.0;
            if (MATMUL.equals(op.opName())) {
                if (in.size() != 2 || out.size() != 1) {
                    return false;
                }
                return run(op, context, product(in.get(0), in.get(1), out.get(0), tx, ty, tz, alpha, beta));
            }
            if (in.size() != 3 || out.size() != 2) {
                return false;
            }
            INDArray x = in.get(0), y = in.get(1), eps = in.get(2);
            // libnd4j's matmul_bp: two matmuls with these arguments
            Call dx = product(eps, y, out.get(0), tz, !ty, tx, alpha, beta);
            Call dy = product(x, eps, out.get(1), !tx, tz, ty, alpha, beta);
            return run(op, context, dx, dy);
        }

        private boolean run(CustomOp op, OpContext context, Call... calls) {
            OneDnnProducts.Product[] ready = new OneDnnProducts.Product[calls.length];
            for (int k = 0; k < calls.length; k++) {
                ready[k] = calls[k] == null ? null : calls[k].prepare();
                if (ready[k] == null) {
                    return false; // all or nothing: with beta != 0 a product must not run twice
                }
            }
            long start = profilingConfigurableHookIn(op, context);
            for (int k = 0; k < calls.length; k++) {
                ready[k].run(calls[k].a, calls[k].b, calls[k].c);
            }
            products.addAndGet(ready.length);
            profilingConfigurableHookOut(op, context, start);
            return true;
        }

        /** libnd4j's {@code matmul(x, y)} with flags {@code tx, ty, tz}, as a call oneDNN takes, or null. */
        private static Call product(INDArray x, INDArray y, INDArray z, boolean tx, boolean ty, boolean tz,
                double alpha, double beta) {
            // z = (op(x) · op(y))ᵀ = op(y)ᵀ · op(x)ᵀ, as libnd4j computes it
            Call c = tz ? new Call(y, !ty, x, !tx, z, alpha, beta) : new Call(x, tx, y, ty, z, alpha, beta);
            return OneDnnProducts.fits(c.a, c.ta, c.b, c.tb, c.c) ? c : null;
        }
    }

    private record Call(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
        OneDnnProducts.Product prepare() {
            return OneDnnProducts.prepare(a, ta, b, tb, c, alpha, beta);
        }
    }
}
