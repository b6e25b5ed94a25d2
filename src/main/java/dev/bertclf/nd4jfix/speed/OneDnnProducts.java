package dev.bertclf.nd4jfix.speed;

import org.bytedeco.dnnl.dnnl_matmul_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;

import static dev.bertclf.nd4jfix.speed.OneDnn.check;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_sum;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_output_scales;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;

/**
 * Matrix products {@code c = alpha · op(a) · op(b) + beta · c} on oneDNN's {@code matmul} primitive: float32 batched
 * products, for arrays of rank 3 or more with the same leading (batch) dimensions, and under {@link Bf16Products}
 * also rank-2 products of bfloat16 {@code a} and {@code b} into a float32 {@code c} (float32 accumulation).
 * {@code op(a)} is {@code [..., M, K]}, {@code op(b)} {@code [..., K, N]}, {@code c} {@code [..., M, N]}, a
 * transposition being the last two dimensions' strides swapped, so nothing is copied. Used by {@link OneDnnKernels}
 * only.
 */
final class OneDnnProducts {
    private static final int[] ROLES = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};

    private OneDnnProducts() {
    }

    /**
     * Whether oneDNN takes these arrays: {@code a} and {@code b} of {@code inputs}, {@code c} float32, one rank of at
     * least {@code minRank}, equal batch dimensions, matching inner dimensions, nothing empty.
     */
    private static boolean fits(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, DataType inputs,
            int minRank) {
        int r = c.rank();
        if (r < minRank || a.rank() != r || b.rank() != r || a.isEmpty() || b.isEmpty() || c.isEmpty()) {
            return false;
        }
        if (a.dataType() != inputs || b.dataType() != inputs || c.dataType() != DataType.FLOAT) {
            return false;
        }
        for (int i = 0; i < r - 2; i++) {
            if (a.size(i) != c.size(i) || b.size(i) != c.size(i)) {
                return false;
            }
        }
        long[] ad = transposed(a.shape(), ta), bd = transposed(b.shape(), tb);
        return ad[r - 2] == c.size(r - 2) && bd[r - 1] == c.size(r - 1) && ad[r - 1] == bd[r - 2]
                && positiveStrides(a) && positiveStrides(b) && positiveStrides(c);
    }

    /**
     * This thread's primitive for the product (run it with {@code a, b, c}), or null where oneDNN does not take these
     * arrays ({@link #fits}) or offers only its reference implementation for their layouts.
     */
    static OneDnn.Primitive prepare(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha,
            double beta) {
        return fits(a, ta, b, tb, c, DataType.FLOAT, 3) ? prepare(a, ta, b, tb, c, alpha, beta, dnnl_f32) : null;
    }

    /**
     * As {@link #prepare}, for bfloat16 {@code a} and {@code b} (rank 2 too) and a float32 {@code c}: float32
     * accumulation of the bf16 values' products, on the CPU's bf16 instructions where oneDNN finds them.
     */
    static OneDnn.Primitive prepareBf16(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha,
            double beta) {
        return fits(a, ta, b, tb, c, DataType.BFLOAT16, 2) ? prepare(a, ta, b, tb, c, alpha, beta, dnnl_bf16) : null;
    }

    private static OneDnn.Primitive prepare(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha,
            double beta, int inputType) {
        long[] ad = transposed(a.shape(), ta), bd = transposed(b.shape(), tb);
        Layout layout = new Layout(List.of(ad, unitStrides(ad, transposed(a.stride(), ta)), bd,
                unitStrides(bd, transposed(b.stride(), tb)), c.shape(), unitStrides(c.shape(), c.stride())),
                (float) alpha, (float) beta, inputType);
        OneDnn.Primitive p = OneDnn.kept(layout, layout::make);
        return p.usable() ? p : null;
    }

    /**
     * The three operands' dimensions and strides as oneDNN sees them (a, a, b, b, c, c), alpha, beta, and the inputs'
     * oneDNN data type.
     */
    private record Layout(List<long[]> dimsAndStrides, float alpha, float beta, int inputType) {
        OneDnn.Primitive make() {
            dnnl_memory_desc_t[] descs = new dnnl_memory_desc_t[3];
            for (int i = 0; i < 3; i++) {
                descs[i] = OneDnn.desc(dimsAndStrides.get(2 * i), dimsAndStrides.get(2 * i + 1),
                        i < 2 ? inputType : dnnl_f32);
            }
            try (dnnl_matmul_desc_t op = new dnnl_matmul_desc_t()) {
                check(dnnl_matmul_desc_init(op, descs[0], descs[1], null, descs[2]), "describing a matmul");
                dnnl_primitive_attr attr = new dnnl_primitive_attr();
                check(dnnl_primitive_attr_create(attr), "creating matmul attributes");
                try {
                    if (alpha != 1f) {
                        check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, new float[] {alpha}), "alpha");
                    }
                    addBeta(attr, beta);
                    return new OneDnn.Primitive(OneDnn.primitiveDesc(op, attr), ROLES, descs);
                } finally {
                    dnnl_primitive_attr_destroy(attr);
                }
            } catch (RuntimeException e) {
                for (dnnl_memory_desc_t d : descs) {
                    if (d != null) {
                        d.close();
                    }
                }
                throw e;
            }
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Layout l) || alpha != l.alpha || beta != l.beta || inputType != l.inputType) {
                return false;
            }
            for (int i = 0; i < dimsAndStrides.size(); i++) {
                if (!Arrays.equals(dimsAndStrides.get(i), l.dimsAndStrides.get(i))) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = (Float.hashCode(alpha) * 31 + Float.hashCode(beta)) * 31 + inputType;
            for (long[] v : dimsAndStrides) {
                h = h * 31 + Arrays.hashCode(v);
            }
            return h;
        }
    }

    /** Makes a product's attributes add {@code beta} times the output's prior values (a sum post-op), unless 0. */
    static void addBeta(dnnl_primitive_attr attr, float beta) {
        if (beta == 0f) {
            return;
        }
        dnnl_post_ops sum = new dnnl_post_ops();
        check(dnnl_post_ops_create(sum), "creating post-ops");
        try {
            check(dnnl_post_ops_append_sum(sum, beta), "beta");
            check(dnnl_primitive_attr_set_post_ops(attr, sum), "setting post-ops");
        } finally {
            dnnl_post_ops_destroy(sum);
        }
    }

    /** A copy of {@code v} (dimensions or strides) with the last two swapped when {@code transposed}. */
    private static long[] transposed(long[] v, boolean transposed) {
        long[] t = v.clone();
        if (transposed) {
            t[t.length - 1] = v[v.length - 2];
            t[t.length - 2] = v[v.length - 1];
        }
        return t;
    }

    /**
     * {@code strides} with each dimension of size 1 given the stride it would have next to the dimension after it:
     * ND4J gives a {@code [1, n]} row strides {@code [1, 1]}, which oneDNN 2.5 accepts when describing it and then
     * fails to run (status 2); a size-1 dimension's stride addresses nothing, so any value is right.
     */
    static long[] unitStrides(long[] dims, long[] strides) {
        long[] s = strides.clone();
        for (int i = s.length - 1; i >= 0; i--) {
            if (dims[i] == 1) {
                s[i] = i == s.length - 1 ? 1 : s[i + 1] * dims[i + 1];
            }
        }
        return s;
    }

    private static boolean positiveStrides(INDArray x) {
        long[] s = x.stride();
        for (int i = 0; i < s.length; i++) {
            if (s[i] <= 0 && x.size(i) > 1) {
                return false;
            }
        }
        return true;
    }
}
