package dev.bertclf.nd4jfix.speed;

import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_init_by_strides;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle_v2;
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
 * bytedeco's oneDNN 2.5 (not the copy inside libnd4j) as {@link OneDnnKernels} uses it: one CPU engine, and on each
 * thread a stream and the primitives that thread made for the {@value #KEPT_PER_THREAD} layouts it used last (making
 * one costs as much as running a small kernel); a primitive runs on the thread that made it. oneDNN runs on the
 * OpenMP runtime libnd4j loaded (one {@code libgomp} in the process), with OpenMP's thread count (the machine's cores
 * unless {@code OMP_NUM_THREADS} says otherwise), as libnd4j's own oneDNN kernels do.
 */
final class OneDnn {
    /** Primitives a thread keeps: a training step or a pass of one batch shape uses 7. */
    static final int KEPT_PER_THREAD = 64;
    static final dnnl_engine ENGINE = createEngine();
    private static final ThreadLocal<Kept> KEPT = ThreadLocal.withInitial(Kept::new);

    private OneDnn() {
    }

    private static dnnl_engine createEngine() {
        dnnl_engine engine = new dnnl_engine();
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "creating oneDNN's CPU engine");
        return engine;
    }

    /** This thread's primitive for {@code layout} (a record of what makes it), made by {@code make} the first time. */
    static Primitive kept(Object layout, Supplier<Primitive> make) {
        Kept kept = KEPT.get();
        Primitive p = kept.get(layout);
        if (p == null) {
            p = make.get();
            kept.put(layout, p);
        }
        return p;
    }

    /** A float32 memory descriptor; the caller closes it (a {@link Primitive} closes those it is given). */
    static dnnl_memory_desc_t desc(long[] dims, long[] strides) {
        return desc(dims, strides, dnnl_f32);
    }

    /** A memory descriptor of oneDNN's {@code dataType} ({@code dnnl_f32}, {@code dnnl_bf16}); the caller closes it. */
    static dnnl_memory_desc_t desc(long[] dims, long[] strides, int dataType) {
        dnnl_memory_desc_t desc = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_strides(desc, dims.length, dims, dataType, strides), "describing "
                + Arrays.toString(dims) + " with strides " + Arrays.toString(strides));
        return desc;
    }

    /** The primitive descriptor of {@code op} with {@code attr} (may be null) on the engine. */
    static dnnl_primitive_desc primitiveDesc(Pointer op, dnnl_primitive_attr attr) {
        return primitiveDesc(op, attr, null);
    }

    /**
     * The primitive descriptor of {@code op} with {@code attr} (may be null) on the engine; a backward op's
     * {@code forwardHint} is its forward primitive descriptor, which must outlive it.
     */
    static dnnl_primitive_desc primitiveDesc(Pointer op, dnnl_primitive_attr attr, dnnl_primitive_desc forwardHint) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(op), attr, ENGINE, forwardHint),
                "creating a primitive descriptor");
        return pd;
    }

    static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN failed " + what + " (status " + status + ")");
        }
    }

    /** A thread's stream and primitives, the least recently used given up first. */
    private static final class Kept extends LinkedHashMap<Object, Primitive> {
        final dnnl_stream stream = new dnnl_stream();

        Kept() {
            super(16, 0.75f, true);
            check(dnnl_stream_create(stream, ENGINE, dnnl_stream_default_flags), "creating a stream");
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Primitive> eldest) {
            if (size() > KEPT_PER_THREAD) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    }

    /**
     * A primitive with one memory object per argument, pointed at the arrays of each run. Not usable where oneDNN
     * offers only its reference implementation (a naive loop, slower than libnd4j's kernels).
     */
    static final class Primitive implements AutoCloseable {
        private final dnnl_memory_desc_t[] descs;
        private final dnnl_memory[] memory;
        private final dnnl_exec_arg_t args;
        private dnnl_primitive_desc pd;
        private dnnl_primitive_desc forwardHint;
        private dnnl_primitive primitive;

        /** Takes {@code pd} and {@code descs} (one per role: {@code DNNL_ARG_*}), and closes them when closed. */
        Primitive(dnnl_primitive_desc pd, int[] roles, dnnl_memory_desc_t... descs) {
            this(pd, null, roles, descs);
        }

        /** As above, for a backward primitive: also takes (and closes) the forward hint {@code pd} was made with. */
        Primitive(dnnl_primitive_desc pd, dnnl_primitive_desc forwardHint, int[] roles, dnnl_memory_desc_t... descs) {
            this.pd = pd;
            this.forwardHint = forwardHint;
            this.descs = descs;
            this.memory = new dnnl_memory[descs.length];
            this.args = new dnnl_exec_arg_t(descs.length);
            try {
                if (implementation().startsWith("ref")) {
                    return;
                }
                dnnl_primitive created = new dnnl_primitive();
                check(dnnl_primitive_create(created, pd), "creating a primitive");
                primitive = created;
                for (int i = 0; i < descs.length; i++) {
                    dnnl_memory m = new dnnl_memory();
                    check(dnnl_memory_create(m, descs[i], ENGINE, (Pointer) null), "creating a memory object");
                    memory[i] = m;
                    args.position(i).arg(roles[i]).memory(m);
                }
                args.position(0);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /** oneDNN's name for the implementation it picked, such as {@code brg:avx512_core} or {@code ref:any}. */
        String implementation() {
            try (PointerPointer<BytePointer> name = new PointerPointer<>(1)) {
                check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, name), "querying a primitive");
                return new BytePointer(name.get(0)).getString();
            }
        }

        boolean usable() {
            return primitive != null;
        }

        /** Runs on the calling thread with {@code arrays} in the roles' order, laid out as when made. */
        void run(INDArray... arrays) {
            dnnl_stream stream = KEPT.get().stream;
            for (int i = 0; i < arrays.length; i++) {
                // addressPointer() includes a view's offset
                check(dnnl_memory_set_data_handle_v2(memory[i], arrays[i].data().addressPointer(), stream),
                        "pointing a memory object at an array");
            }
            check(dnnl_primitive_execute(primitive, stream, arrays.length, args), "running a primitive");
            check(dnnl_stream_wait(stream), "waiting for a primitive");
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
            if (forwardHint != null) {
                dnnl_primitive_desc_destroy(forwardHint);
                forwardHint = null;
            }
            args.close();
            for (dnnl_memory_desc_t d : descs) {
                d.close();
            }
        }
    }
}
