package dev.bertclf.nd4jfix.speed;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * libnd4j's CPU executioner, with the calls {@link OneDnnProducts} and {@link OneDnnLayerNorm} take sent to oneDNN
 * ({@link OneDnnKernels}), and {@link FusedGelu}'s ops, which only it runs. Loaded only on the CPU backend: the CUDA
 * build has no {@link NativeOpExecutioner}.
 */
final class OneDnnExecutioner extends NativeOpExecutioner {
    private static final String MATMUL = "matmul";
    private static final String MATMUL_BP = "matmul_bp";
    private static final String LAYER_NORM = "layer_norm";

    /** A new executioner in place of {@code current}, with its profiling mode. */
    static OpExecutioner replacing(OpExecutioner current) {
        OneDnnExecutioner e = new OneDnnExecutioner();
        e.setProfilingMode(current.getProfilingMode());
        return e;
    }

    /** Whether this thread runs every op libnd4j has a kernel for in libnd4j ({@link OneDnnKernels#inLibnd4j}). */
    static final ThreadLocal<Boolean> LIBND4J_ONLY = ThreadLocal.withInitial(() -> false);

    @Override
    public INDArray[] exec(CustomOp op, OpContext context) {
        String name = op.opName();
        boolean libnd4jOnly = LIBND4J_ONLY.get();
        boolean done = switch (name) {
            case MATMUL, MATMUL_BP -> !libnd4jOnly && runProducts(op, context);
            case LAYER_NORM, DecomposedLayerNormGradient.LAYER_NORM -> !libnd4jOnly && runLayerNorm(op, context);
            case FusedGelu.GELU, FusedGelu.GELU_BP -> runGelu(op, context);
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
            Product dx = Product.of(eps, y, out.get(0), tz, !ty, tx, alpha, beta);
            Product dy = Product.of(x, eps, out.get(1), !tx, tz, ty, alpha, beta);
            if (InputGradientsOnly.skips(y)) {
                products = new Product[] {dx};
            } else if (InputGradientsOnly.skips(x)) {
                products = new Product[] {dy};
            } else {
                products = new Product[] {dx, dy};
            }
        }
        Int8Products.QuantizedWeights int8 = Int8Products.scope();
        if (int8 != null && MATMUL.equals(op.opName()) && inputsAreFloat(products)) {
            if (runInInt8(op, context, products[0], int8)) {
                return true;
            }
            Int8Products.FLOAT32.incrementAndGet(); // the float32 product below
        }
        if (Bf16Products.active() && inputsAreFloat(products)) {
            if (runInBf16(op, context, products)) {
                return skipped(op, products);
            }
            Bf16Products.FELL_BACK.addAndGet(products.length);
            return false; // libnd4j computes them in float32
        }
        if (runAll(op, context, products, Product::prepare, OneDnnKernels.PRODUCTS)) {
            return skipped(op, products);
        }
        // the one product of a matmul_bp whose other half is skipped, where oneDNN does not take it (float32 rank 2
        // is left to libnd4j's BLAS): ND4J's gemm, the BLAS call libnd4j's matmul makes
        return MATMUL_BP.equals(op.opName()) && products.length == 1 && runWithNd4j(products[0])
                && skipped(op, products);
    }

    private static boolean runWithNd4j(Product p) {
        if (p.a.rank() != 2 || p.b.rank() != 2 || p.c.rank() != 2) {
            return false;
        }
        Nd4j.gemm(p.a, p.b, p.c, p.ta, p.tb, p.alpha, p.beta);
        return true;
    }

    /** Counts a {@code matmul_bp} product left out by {@link InputGradientsOnly}; true. */
    private static boolean skipped(CustomOp op, Product[] products) {
        if (MATMUL_BP.equals(op.opName()) && products.length == 1) {
            InputGradientsOnly.SKIPPED.incrementAndGet();
        }
        return true;
    }

    /**
     * Runs the products on the primitives {@code prepare} gives, counting them in {@code computed}; runs none where
     * it gives none for one of them (with beta != 0 a product must not run twice).
     */
    private boolean runAll(CustomOp op, OpContext context, Product[] products,
            Function<Product, OneDnn.Primitive> prepare, AtomicLong computed) {
        OneDnn.Primitive[] ready = new OneDnn.Primitive[products.length];
        for (int k = 0; k < products.length; k++) {
            ready[k] = prepare.apply(products[k]);
            if (ready[k] == null) {
                return false;
            }
        }
        long start = profilingConfigurableHookIn(op, context);
        for (int k = 0; k < products.length; k++) {
            ready[k].run(products[k].a, products[k].b, products[k].c);
        }
        computed.addAndGet(products.length);
        profilingConfigurableHookOut(op, context, start);
        return true;
    }

    private static boolean inputsAreFloat(Product[] products) {
        for (Product p : products) {
            if (p.a.dataType() != DataType.FLOAT || p.b.dataType() != DataType.FLOAT) {
                return false;
            }
        }
        return true;
    }

    /** {@link Bf16Products}: the products from bf16 copies of their inputs, else (all or nothing) not at all. */
    private boolean runInBf16(CustomOp op, OpContext context, Product[] products) {
        Map<INDArray, INDArray> copies = new IdentityHashMap<>(); // this op's own; matmul_bp's eps is in both products
        try {
            Product[] rounded = new Product[products.length];
            for (int k = 0; k < products.length; k++) {
                Product p = products[k];
                rounded[k] = new Product(rounded(p.a, copies), p.ta, rounded(p.b, copies), p.tb, p.c, p.alpha,
                        p.beta);
            }
            return runAll(op, context, rounded, Product::prepareBf16, Bf16Products.COMPUTED);
        } finally {
            copies.values().forEach(INDArray::close);
        }
    }

    /**
     * {@link Int8Products}: the product from the quantized copy of its weight {@code b} and its activation {@code a}
     * quantized now; false (nothing run) where {@code b} is not one of the weights or oneDNN does not take it.
     */
    private boolean runInInt8(CustomOp op, OpContext context, Product p, Int8Products.QuantizedWeights weights) {
        if (p.a.rank() != 2 || p.b.rank() != 2) {
            return false;
        }
        Int8Products.QuantizedWeight w = weights.copyOf(p.b, p.tb);
        if (w == null) {
            return false;
        }
        try (Int8Products.QuantizedActivation a = OneDnnInt8.quantize(p.ta ? p.a.transpose() : p.a,
                weights.levels())) {
            if (a == null) {
                return false;
            }
            // beta · c is added after the row scales: then the product goes to a new array first
            INDArray c = p.beta == 0 ? p.c : Nd4j.createUninitialized(DataType.FLOAT, p.c.shape(), 'c');
            OneDnn.Primitive product = OneDnnInt8.prepareProduct(a.values(), w.values(), c);
            if (product == null) {
                if (c != p.c) {
                    c.close();
                }
                return false;
            }
            long start = profilingConfigurableHookIn(op, context);
            INDArray scales = p.alpha == 1 ? w.scales() : w.scales().mul(p.alpha);
            try (INDArray zeroPoint = Nd4j.createFromArray(a.zeroPoint())) {
                product.run(a.values(), w.values(), c, scales, zeroPoint);
            } finally {
                if (scales != w.scales()) {
                    scales.close();
                }
            }
            OneDnnInt8.scaleRows(c, a.rowScales());
            if (c != p.c) {
                p.c.muli(p.beta).addi(c);
                c.close();
            }
            Int8Products.COMPUTED.incrementAndGet();
            profilingConfigurableHookOut(op, context, start);
            return true;
        }
    }

    /** A weight's kept bf16 copy ({@link Bf16Products.RoundedWeights}), else {@code x} rounded for this op alone. */
    private static INDArray rounded(INDArray x, Map<INDArray, INDArray> copies) {
        INDArray kept = Bf16Products.keptCopy(x);
        return kept != null ? kept : copies.computeIfAbsent(x, y -> y.castTo(DataType.BFLOAT16));
    }

    private boolean runLayerNorm(CustomOp op, OpContext context) {
        List<INDArray> in = context.getInputArrays();
        List<INDArray> out = context.getOutputArrays();
        boolean[] b = op.bArgs();
        if (in.size() != 3 || out.size() != 1 || (b.length > 0 && b[0])) { // channels first: not BERT's
            return false;
        }
        INDArray x = in.get(0), gamma = in.get(1), beta = in.get(2), z = out.get(0);
        OneDnn.Primitive p = OneDnnLayerNorm.prepare(x, gamma, beta, z, op.iArgs());
        if (p == null) {
            return false;
        }
        long start = profilingConfigurableHookIn(op, context);
        p.run(x, gamma, beta, z);
        OneDnnKernels.LAYER_NORMS.incrementAndGet();
        profilingConfigurableHookOut(op, context, start);
        return true;
    }

    /** {@link FusedGelu}'s ops, which have no libnd4j kernel: on oneDNN, else with ND4J's elementwise ops. */
    private boolean runGelu(CustomOp op, OpContext context) {
        List<INDArray> in = context.getInputArrays();
        INDArray out = context.getOutputArrays().get(0);
        boolean forward = FusedGelu.GELU.equals(op.opName());
        INDArray x = in.get(0);
        long start = profilingConfigurableHookIn(op, context);
        OneDnn.Primitive p = forward ? OneDnnGelu.prepareForward(x, out) : OneDnnGelu.prepareBackward(x, in.get(1),
                out);
        if (p != null) {
            if (forward) {
                p.run(x, out);
            } else {
                p.run(x, in.get(1), out);
            }
            OneDnnKernels.GELUS.incrementAndGet();
        } else if (forward) {
            FusedGelu.forwardWithNd4j(x, out);
        } else {
            FusedGelu.backwardWithNd4j(x, in.get(1), out);
        }
        profilingConfigurableHookOut(op, context, start);
        return true;
    }

    /** One product {@code c = alpha · op(a) · op(b) + beta · c}. */
    private record Product(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
        /** libnd4j's {@code matmul(x, y)} with flags {@code tx, ty, tz}. */
        static Product of(INDArray x, INDArray y, INDArray z, boolean tx, boolean ty, boolean tz, double alpha,
                double beta) {
            // with tz: z = (op(x) · op(y))ᵀ = op(y)ᵀ · op(x)ᵀ, as libnd4j computes it
            return tz ? new Product(y, !ty, x, !tx, z, alpha, beta) : new Product(x, tx, y, ty, z, alpha, beta);
        }

        /** This thread's primitive for it, or null where oneDNN does not take it. */
        OneDnn.Primitive prepare() {
            return OneDnnProducts.prepare(a, ta, b, tb, c, alpha, beta);
        }

        /** As {@link #prepare()}, for bf16 {@code a} and {@code b}. */
        OneDnn.Primitive prepareBf16() {
            return OneDnnProducts.prepareBf16(a, ta, b, tb, c, alpha, beta);
        }
    }
}
