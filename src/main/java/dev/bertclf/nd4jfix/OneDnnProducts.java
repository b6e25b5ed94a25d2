package dev.bertclf.nd4jfix;

import org.bytedeco.dnnl.dnnl_matmul_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;

import static dev.bertclf.nd4jfix.OneDnn.check;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_sum;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_output_scales;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;

/**
 * Batched float32 matrix products {@code c = alpha · op(a) · op(b) + beta · c} on oneDNN's {@code matmul} primitive,
 * for arrays of rank 3 or more with the same leading (batch) dimensions: {@code op(a)} is {@code [..., M, K]},
 * {@code op(b)} {@code [..., K, N]}, {@code c} {@code [..., M, N]}, a transposition being the last two dimensions'
 * strides swapped, so nothing is copied. Used by {@link OneDnnKernels} only.
 */
final class OneDnnProducts {
    private static final int[] ROLES = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};

    private OneDnnProducts() {
    }

    /**
     * Whether oneDNN takes these arrays: float32, one rank of 3 or more, equal batch dimensions, matching inner
     * dimensions, nothing empty.
     */
    private static boolean fits(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c) {
        int r = c.rank();
        if (r < 3 || a.rank() != r || b.rank() != r || a.isEmpty() || b.isEmpty() || c.isEmpty()) {
            return false;
        }
        if (a.dataType() != DataType.FLOAT || b.dataType() != DataType.FLOAT || c.dataType() != DataType.FLOAT) {
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
        if (!fits(a, ta, b, tb, c)) {
            return null;
        }
        Layout layout = new Layout(List.of(transposed(a.shape(), ta), transposed(a.stride(), ta),
                transposed(b.shape(), tb), transposed(b.stride(), tb), c.shape(), c.stride()), (float) alpha,
                (float) beta);
        OneDnn.Primitive p = OneDnn.kept(layout, layout::make);
        return p.usable() ? p : null;
    }

    /** The three operands' dimensions and strides as oneDNN sees them (a, a, b, b, c, c), alpha and beta. */
    private record Layout(List<long[]> dimsAndStrides, float alpha, float beta) {
        OneDnn.Primitive make() {
            dnnl_memory_desc_t[] descs = new dnnl_memory_desc_t[3];
            for (int i = 0; i < 3; i++) {
                descs[i] = OneDnn.desc(dimsAndStrides.get(2 * i), dimsAndStrides.get(2 * i + 1));
            }
            try (dnnl_matmul_desc_t op = new dnnl_matmul_desc_t()) {
                check(dnnl_matmul_desc_init(op, descs[0], descs[1], null, descs[2]), "describing a matmul");
                dnnl_primitive_attr attr = new dnnl_primitive_attr();
                check(dnnl_primitive_attr_create(attr), "creating matmul attributes");
                try {
                    if (alpha != 1f) {
                        check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, new float[] {alpha}), "alpha");
                    }
                    if (beta != 0f) {
                        dnnl_post_ops sum = new dnnl_post_ops();
                        check(dnnl_post_ops_create(sum), "creating post-ops");
                        try {
                            check(dnnl_post_ops_append_sum(sum, beta), "beta");
                            check(dnnl_primitive_attr_set_post_ops(attr, sum), "setting post-ops");
                        } finally {
                            dnnl_post_ops_destroy(sum);
                        }
                    }
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
            if (!(o instanceof Layout l) || alpha != l.alpha || beta != l.beta) {
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
            int h = Float.hashCode(alpha) * 31 + Float.hashCode(beta);
            for (long[] v : dimsAndStrides) {
                h = h * 31 + Arrays.hashCode(v);
            }
            return h;
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
