package dev.bertclf.nd4jfix;

import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_matmul_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_init_by_strides;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle_v2;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_sum;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_output_scales;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

/**
 * Batched float32 matrix products {@code c = alpha · op(a) · op(b) + beta · c} on oneDNN's {@code matmul} primitive
 * (bytedeco's oneDNN 2.5, not the copy inside libnd4j), for arrays of rank 3 or more with the same leading (batch)
 * dimensions: {@code op(a)} is {@code [..., M, K]}, {@code op(b)} {@code [..., K, N]}, {@code c} {@code [..., M, N]},
 * a transposition being the last two dimensions' strides swapped, so nothing is copied. Each thread keeps its
 * primitives, by layouts and scalars, for the {@value #KEPT_PER_THREAD} layouts it used last (making one costs about
 * 0.1 ms, as much as a small product). Used by {@link BatchedMatmulThroughOneDnn} only.
 */
final class OneDnnProducts {
    /** Primitives a thread keeps: a training step or a pass of one batch shape uses 6. */
    static final int KEPT_PER_THREAD = 48;
    private static final dnnl_engine ENGINE = createEngine();
    private static final ThreadLocal<Kept> KEPT = ThreadLocal.withInitial(Kept::new);

    private OneDnnProducts() {
    }

    private static dnnl_engine createEngine() {
        dnnl_engine engine = new dnnl_engine();
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "creating oneDNN's CPU engine");
        return engine;
    }

    /**
     * Whether {@link #prepare} takes these arrays: float32, one rank of 3 or more, equal batch dimensions, matching
     * inner dimensions, nothing empty.
     */
    static boolean fits(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c) {
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
        long[] ad = dims(a, ta), bd = dims(b, tb);
        return ad[r - 2] == c.size(r - 2) && bd[r - 1] == c.size(r - 1) && ad[r - 1] == bd[r - 2]
                && positiveStrides(a) && positiveStrides(b) && positiveStrides(c);
    }

    /**
     * This thread's primitive for these layouts and scalars, or null where oneDNN offers only its reference
     * implementation for them (a naive loop, slower than libnd4j's). Run it on this thread only.
     */
    static Product prepare(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
        if (!fits(a, ta, b, tb, c)) {
            throw new IllegalArgumentException("not a batched float product oneDNN takes: " + Arrays.toString(a.shape())
                    + (ta ? "ᵀ" : "") + " · " + Arrays.toString(b.shape()) + (tb ? "ᵀ" : "") + " -> "
                    + Arrays.toString(c.shape()));
        }
        Layout key = new Layout(a, ta, b, tb, c, (float) alpha, (float) beta);
        Kept kept = KEPT.get();
        Product p = kept.get(key);
        if (p == null) {
            p = Product.create(a, ta, b, tb, c, (float) alpha, (float) beta);
            kept.put(key, p);
        }
        return p.usable ? p : null;
    }

    /** A thread's primitives, the least recently used given up first. */
    private static final class Kept extends LinkedHashMap<Layout, Product> {
        final dnnl_stream stream = new dnnl_stream();

        Kept() {
            super(16, 0.75f, true);
            check(dnnl_stream_create(stream, ENGINE, dnnl_stream_default_flags), "creating a stream");
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<Layout, Product> eldest) {
            if (size() > KEPT_PER_THREAD) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    }

    /** The dimensions and strides of the three operands as oneDNN sees them, and alpha and beta. */
    private record Layout(long[] values) {
        Layout(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, float alpha, float beta) {
            this(pack(a, ta, b, tb, c, alpha, beta));
        }

        private static long[] pack(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, float alpha,
                float beta) {
            int r = c.rank();
            long[] v = new long[6 * r + 2];
            int at = 0;
            for (long[] part : List.of(dims(a, ta), strides(a, ta), dims(b, tb), strides(b, tb), c.shape(),
                    c.stride())) {
                System.arraycopy(part, 0, v, at, r);
                at += r;
            }
            v[at] = Float.floatToIntBits(alpha);
            v[at + 1] = Float.floatToIntBits(beta);
            return v;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Layout l && Arrays.equals(values, l.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }
    }

    /** A oneDNN matmul primitive for one layout, with memory objects whose data pointers are set per run. */
    static final class Product implements AutoCloseable {
        private final List<dnnl_memory_desc_t> descs = new ArrayList<>(3);
        private final dnnl_memory[] memory = new dnnl_memory[3];
        private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(3);
        private dnnl_primitive_desc pd;
        private dnnl_primitive primitive;
        private boolean usable;

        private Product() {
        }

        static Product create(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, float alpha, float beta) {
            Product p = new Product();
            try {
                p.describe(desc(a, ta), desc(b, tb), desc(c, false), alpha, beta);
                p.usable = !p.implementation().startsWith("ref");
                if (p.usable) {
                    p.bind();
                }
                return p;
            } catch (RuntimeException e) {
                p.close();
                throw e;
            }
        }

        private void describe(dnnl_memory_desc_t ad, dnnl_memory_desc_t bd, dnnl_memory_desc_t cd, float alpha,
                float beta) {
            descs.addAll(List.of(ad, bd, cd));
            try (dnnl_matmul_desc_t op = new dnnl_matmul_desc_t()) {
                check(dnnl_matmul_desc_init(op, ad, bd, null, cd), "describing a matmul");
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
                    dnnl_primitive_desc created = new dnnl_primitive_desc();
                    check(dnnl_primitive_desc_create(created, new const_dnnl_op_desc_t(op), attr, ENGINE, null),
                            "creating a matmul primitive descriptor");
                    pd = created;
                } finally {
                    dnnl_primitive_attr_destroy(attr);
                }
            }
        }

        /** oneDNN's name for the implementation it picked, such as {@code brg:avx512_core} or {@code ref:any}. */
        String implementation() {
            try (PointerPointer<BytePointer> name = new PointerPointer<>(1)) {
                check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, name), "querying the matmul");
                return new BytePointer(name.get(0)).getString();
            }
        }

        private void bind() {
            dnnl_primitive created = new dnnl_primitive();
            check(dnnl_primitive_create(created, pd), "creating a matmul primitive");
            primitive = created;
            int[] roles = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
            for (int i = 0; i < 3; i++) {
                dnnl_memory m = new dnnl_memory();
                check(dnnl_memory_create(m, descs.get(i), ENGINE, (Pointer) null), "creating a memory object");
                memory[i] = m;
                args.position(i).arg(roles[i]).memory(m);
            }
            args.position(0);
        }

        /** Computes {@code c} from {@code a} and {@code b} (laid out as when prepared) on the calling thread. */
        void run(INDArray a, INDArray b, INDArray c) {
            dnnl_stream stream = KEPT.get().stream;
            INDArray[] arrays = {a, b, c};
            for (int i = 0; i < 3; i++) {
                // addressPointer() includes a view's offset
                check(dnnl_memory_set_data_handle_v2(memory[i], arrays[i].data().addressPointer(), stream),
                        "pointing a memory object at an array");
            }
            check(dnnl_primitive_execute(primitive, stream, 3, args), "running a matmul");
            check(dnnl_stream_wait(stream), "waiting for a matmul");
        }

        @Override
        public void close() {
            for (dnnl_memory m : memory) {
                if (m != null) {
                    dnnl_memory_destroy(m);
                }
            }
            if (primitive != null) {
                dnnl_primitive_destroy(primitive);
                primitive = null;
            }
            if (pd != null) {
                dnnl_primitive_desc_destroy(pd);
                pd = null;
            }
            args.close();
            descs.forEach(dnnl_memory_desc_t::close);
        }
    }

    /** The array's dimensions, the last two swapped when {@code transposed}. */
    private static long[] dims(INDArray x, boolean transposed) {
        long[] d = x.shape().clone();
        if (transposed) {
            swapLastTwo(d);
        }
        return d;
    }

    /** The array's strides, the last two swapped when {@code transposed}. */
    private static long[] strides(INDArray x, boolean transposed) {
        long[] s = x.stride().clone();
        if (transposed) {
            swapLastTwo(s);
        }
        return s;
    }

    private static dnnl_memory_desc_t desc(INDArray x, boolean transposed) {
        long[] strides = strides(x, transposed);
        long[] d = dims(x, transposed);
        dnnl_memory_desc_t desc = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_strides(desc, d.length, d, dnnl_f32, strides), "describing "
                + Arrays.toString(d) + " with strides " + Arrays.toString(strides));
        return desc;
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

    private static void swapLastTwo(long[] v) {
        long t = v[v.length - 1];
        v[v.length - 1] = v[v.length - 2];
        v[v.length - 2] = t;
    }

    private static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN failed " + what + " (status " + status + ")");
        }
    }
}
