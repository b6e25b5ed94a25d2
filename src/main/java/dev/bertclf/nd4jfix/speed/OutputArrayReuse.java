package dev.bertclf.nd4jfix.speed;

import dev.bertclf.nd4jfix.repair.ArrayCacheOff;

import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.config.SDValue;
import org.nd4j.autodiff.samediff.internal.AbstractSession;
import org.nd4j.autodiff.samediff.internal.FrameIter;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.BaseNDArray;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Inference sessions ({@code sd.output}) that reuse released op outputs instead of allocating every one afresh.
 *
 * <p><b>Symptom:</b> with M2.1's array cache off ({@link ArrayCacheOff}), every op output of a forward pass is a new
 * off-heap buffer, which libnd4j zero-fills as it allocates: in a BERT-base forward pass, a large share of the time
 * in native code was {@code allocateDataBuffer} (Java Flight Recorder; docs/performance.md).
 * <p><b>Cause:</b> M2.1's own cache ({@code ArrayCacheMemoryMgr}) hands a released array out with its old contents,
 * and M2.1's TF importer gives the attention's batched products ({@code BatchMatMulV2}: Q·Kᵀ, probabilities·V) the
 * arguments alpha = 1, <i>beta = 1</i>, so they compute {@code out = A·B + out}: correct only in a zero-filled array.
 * (This is where a reused array first changes BERT's results: layer 0's probabilities·V, all its inputs equal.)
 * <p><b>Fix:</b> {@link #install()} makes SameDiff create {@link Session}s, whose {@link Pool} reuses a released array
 * for the next output of the same type and shape, and zeroes it unless the op is one known to write every element of
 * its output without reading it ({@link #overwritesOutputs}: {@link #OVERWRITING_OPS}, and {@code matmul} with
 * beta = 0). The pools of a JVM hold at most {@link #MAX_POOLED_BYTES}; a pool's arrays are freed with it. Training
 * is untouched: {@code SameDiff.fit} builds its own session. (An {@code Identity} op's output is its input array; the
 * session releases it only after the consumers of both names have run, which the tests check.)
 * <p><b>Guarded by:</b> {@code OutputArrayReuseTest}: a TF graph with two batched products, an identity graph, and a
 * classifier's probabilities over batches of three shapes, bit for bit equal to fresh sessions with released arrays
 * filled with NaN (the batched products and the classifier fail without the zeroing); {@code BertParityTest} and
 * every inference test, which run through these sessions.
 * <p><b>Remove when:</b> {@link ArrayCacheOff} is removed: a newer ND4J's own cache returns correct results.
 */
public final class OutputArrayReuse {
    /** The most bytes the pools of this JVM hold; a released array that does not fit is closed. */
    public static final long MAX_POOLED_BYTES = 1L << 30;

    /** Ops whose kernels write every element of their output without reading it (M2.1's libnd4j). */
    static final Set<String> OVERWRITING_OPS = Set.of("add", "add_scalar", "biasadd", "cube", "layer_norm",
            "mul_scalar", "multiply", "permute", "reshape", "rsub_scalar", "softmax", "tanh",
            LeanAddGradients.BIAS_ADD, LeanAddGradients.SAME_SHAPE_ADD,
            DecomposedLayerNormGradient.LAYER_NORM, FusedGelu.GELU, LeanAddGradients.MASK_ADD,
            SoftmaxGradientFromOutput.SOFTMAX);

    private static final AtomicLong POOLED_BYTES = new AtomicLong();
    private static final Cleaner CLEANER = Cleaner.create();

    private OutputArrayReuse() {
    }

    /**
     * Whether {@code op} writes every element of its outputs without reading them: one of {@link #OVERWRITING_OPS},
     * or a {@code matmul} whose beta (its second floating-point argument, 0 when absent) is 0.
     */
    static boolean overwritesOutputs(DifferentialFunction op) {
        String name = op.opName();
        if (OVERWRITING_OPS.contains(name)) {
            return true;
        }
        if (name.equals("matmul") && op instanceof DynamicCustomOp custom) {
            double[] t = custom.tArgs();
            return t.length < 2 || t[1] == 0.0;
        }
        return false;
    }

    /** Makes every inference session SameDiff creates from now on a {@link Session}. Idempotent. */
    public static void install() {
        SameDiff.bindInferenceFactory(Session::new);
    }

    /** Bytes the pools of this JVM hold now. */
    public static long pooledBytes() {
        return POOLED_BYTES.get();
    }

    /**
     * An inference session whose outputs come from a {@link Pool} and which works out the part of the graph a set of
     * requested outputs needs only once ({@link RememberedSubgraphs}); one per thread and graph, as SameDiff keeps
     * them.
     */
    public static final class Session extends InferenceSession {
        private final Pool pool;
        private final RememberedSubgraphs subgraphs = new RememberedSubgraphs();

        public Session(SameDiff sd) {
            this(sd, new Pool(MAX_POOLED_BYTES));
        }

        Session(SameDiff sd, Pool pool) {
            super(sd);
            this.pool = pool;
            setMmgr(pool);
        }

        @Override
        protected void initSubgraph(Set<String> variables) {
            subgraphs.fill(sameDiff, variables, () -> super.initSubgraph(variables), subgraph, subgraphOps,
                    zeroInputOpsInSubgraph);
        }

        /** How many times this session worked out a subgraph rather than replaying one (for tests). */
        int subgraphsWorkedOut() {
            return subgraphs.workedOut();
        }

        @Override
        public Pair<SameDiffOp, OpContext> getAndParameterizeOp(String opName, FrameIter frameIter,
                Set<AbstractSession.VarId> opInputs, Set<AbstractSession.VarId> allIterInputs,
                Set<String> constAndPhInputs, Map<String, INDArray> placeholderValues, Set<String> allReqVariables,
                Map<String, SDValue> otherPlaceholders) {
            // the op's output arrays are allocated in here
            pool.allocatingFor = sameDiff.getOps().get(opName).getOp();
            try {
                return super.getAndParameterizeOp(opName, frameIter, opInputs, allIterInputs, constAndPhInputs,
                        placeholderValues, allReqVariables, otherPlaceholders);
            } finally {
                pool.allocatingFor = null;
            }
        }
    }

    /**
     * Released arrays by type and shape, the least recently used shapes given up first when the JVM's pools are full.
     * Used by one session, so by one thread.
     */
    static final class Pool extends AbstractMemoryMgr {
        private final long maxBytes;
        private final Map<Key, ArrayDeque<INDArray>> free = new LinkedHashMap<>(16, 0.75f, true);
        private final AtomicLong held = new AtomicLong();
        /** The op whose outputs are being allocated, if known. */
        DifferentialFunction allocatingFor;
        /** Tests only: fill released arrays with NaN, so any later read of one shows. */
        boolean poisonReleased;

        Pool(long maxBytes) {
            this.maxBytes = maxBytes;
            AtomicLong h = held;
            CLEANER.register(this, () -> POOLED_BYTES.addAndGet(-h.get()));
        }

        @Override
        public INDArray allocate(boolean detached, DataType dataType, long... shape) {
            Key key = new Key(dataType, shape);
            ArrayDeque<INDArray> q = free.get(key);
            INDArray a = q == null ? null : q.poll();
            if (a == null) {
                a = Nd4j.createUninitializedDetached(dataType, shape); // not zero-filled: UnfilledBuffers
            } else {
                if (q.isEmpty()) {
                    free.remove(key);
                }
                count(-bytes(a));
                ((BaseNDArray) a).assignNewId();
            }
            DifferentialFunction op = allocatingFor;
            if (op == null || !overwritesOutputs(op)) {
                Nd4j.getMemoryManager().memset(a);
            }
            return a;
        }

        @Override
        public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
            if (descriptor.isEmpty()) {
                return Nd4j.create(descriptor).detach();
            }
            if (descriptor.getOrder() == 'f') {
                // pooled arrays are all 'c' order
                INDArray a = Nd4j.createUninitializedDetached(descriptor.dataType(), 'f', descriptor.getShape());
                if (allocatingFor == null || !overwritesOutputs(allocatingFor)) {
                    Nd4j.getMemoryManager().memset(a);
                }
                return a;
            }
            return allocate(detached, descriptor.dataType(), descriptor.getShape());
        }

        @Override
        public void release(INDArray a) {
            if (a == null || a.wasClosed()) {
                return;
            }
            long b = bytes(a);
            if (!poolable(a) || !makeRoom(b)) {
                if (a.closeable()) {
                    a.close();
                }
                return;
            }
            if (poisonReleased && a.dataType().isFPType()) {
                a.assign(Double.NaN);
            }
            free.computeIfAbsent(new Key(a.dataType(), a.shape()), k -> new ArrayDeque<>()).push(a);
            count(b);
        }

        @Override
        public void close() {
            for (ArrayDeque<INDArray> q : free.values()) {
                for (INDArray a : q) {
                    count(-bytes(a));
                    if (a.closeable()) {
                        a.close();
                    }
                }
            }
            free.clear();
        }

        long heldBytes() {
            return held.get();
        }

        /** Frees least recently used shapes until {@code bytes} more fit, in this pool and in the JVM's. */
        private boolean makeRoom(long bytes) {
            if (bytes > maxBytes) {
                return false;
            }
            Iterator<ArrayDeque<INDArray>> lru = free.values().iterator();
            while ((held.get() + bytes > maxBytes || POOLED_BYTES.get() + bytes > MAX_POOLED_BYTES) && lru.hasNext()) {
                for (INDArray x : lru.next()) {
                    count(-bytes(x));
                    if (x.closeable()) {
                        x.close();
                    }
                }
                lru.remove();
            }
            return held.get() + bytes <= maxBytes && POOLED_BYTES.get() + bytes <= MAX_POOLED_BYTES;
        }

        private void count(long bytes) {
            held.addAndGet(bytes);
            POOLED_BYTES.addAndGet(bytes);
        }

        private static boolean poolable(INDArray a) {
            return !a.isView() && !a.isEmpty() && a.ordering() == 'c' && a.data() != null
                    && a.data().originalDataBuffer() == null && a.data().length() == a.length() && a.closeable();
        }

        private static long bytes(INDArray a) {
            return a.length() * a.dataType().width();
        }
    }

    private record Key(DataType type, List<Long> shape) {
        Key(DataType type, long[] shape) {
            this(type, Arrays.stream(shape).boxed().toList());
        }
    }
}
