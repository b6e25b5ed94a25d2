package dev.bertclf.nd4jfix.speed;

import org.bytedeco.dnnl.dnnl_binary_desc_t;
import org.bytedeco.dnnl.dnnl_matmul_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_reduction_desc_t;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

import static dev.bertclf.nd4jfix.speed.OneDnn.check;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_OUTPUT_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_ZERO_POINTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_RUNTIME_S32_VAL;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_binary_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_binary_mul;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reduction_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reduction_max;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reduction_min;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_output_scales;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_zero_points;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_s32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_s8;
import static org.bytedeco.dnnl.global.dnnl.dnnl_u8;

/**
 * {@link Int8Products}' oneDNN primitives: each activation row's largest magnitude (a row maximum and a row minimum),
 * the quantizing reorder (float32 to u8, one scale per row and a zero point given at each run), the int8
 * {@code matmul} ({@code u8 · s8}, int32 sums, scaled to float32 by one scale per output column given at each run) and
 * the scaling of its output's rows. Used by {@link OneDnnExecutioner} only.
 */
final class OneDnnInt8 {
    private static final int[] QUANTIZE_ROLES = {DNNL_ARG_FROM, DNNL_ARG_TO, DNNL_ARG_ATTR_OUTPUT_SCALES,
            DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST};
    private static final int[] REDUCTION_ROLES = {DNNL_ARG_SRC, DNNL_ARG_DST};
    private static final int[] SCALING_ROLES = {DNNL_ARG_SRC_0, DNNL_ARG_SRC_1, DNNL_ARG_DST};
    private static final int[] PRODUCT_ROLES = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST,
            DNNL_ARG_ATTR_OUTPUT_SCALES, DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC};

    /**
     * oneDNN's {@code DNNL_RUNTIME_F32_VAL}, "given at run time", by its bit pattern: the binding's {@code double}
     * constant need not keep the NaN's payload that oneDNN compares.
     */
    private static final float RUNTIME_F32 = Float.intBitsToFloat(0x7fc000d0);

    private OneDnnInt8() {
    }

    /**
     * {@code x} (float32, rank 2, any strides) quantized row by row into a new row-major u8 array of its shape:
     * {@code clamp(round(x / scale[i]) + zeroPoint, 0, levels)}, symmetric per row
     * ({@link Int8Products#rowScales}). Null where oneDNN has no fast reorder for it.
     */
    static Int8Products.QuantizedActivation quantize(INDArray x, int levels) {
        if (x.dataType() != DataType.FLOAT || x.isEmpty() || x.rank() != 2) {
            return null;
        }
        OneDnn.Primitive p = OneDnn.kept(new QuantizeLayout(x.shape(), x.stride()),
                () -> quantizer(x.shape(), x.stride()));
        if (!p.usable()) {
            return null;
        }
        float[] scales = Int8Products.rowScales(rowAbsMax(x), levels);
        float[] inverse = new float[scales.length];
        for (int i = 0; i < scales.length; i++) {
            inverse[i] = 1f / scales[i];
        }
        int zeroPoint = Int8Products.zeroPoint(levels);
        INDArray q = Nd4j.createUninitialized(DataType.UBYTE, x.shape(), 'c');
        INDArray rowScales = Nd4j.createFromArray(scales);
        try (INDArray inverses = Nd4j.createFromArray(inverse);
                INDArray zero = Nd4j.createFromArray(zeroPoint)) {
            p.run(x, q, inverses, zero);
        }
        return new Int8Products.QuantizedActivation(q, rowScales, zeroPoint);
    }

    /**
     * The largest {@code |x[i, :]|} of each row of {@code x} (float32, rank 2): oneDNN's row maximum and minimum,
     * faster together than libnd4j's {@code amax} along a dimension (docs/measurements.md).
     */
    static float[] rowAbsMax(INDArray x) {
        OneDnn.Primitive max = OneDnn.kept(new ReductionLayout(x.shape(), x.stride(), dnnl_reduction_max),
                () -> reduction(x.shape(), x.stride(), dnnl_reduction_max));
        OneDnn.Primitive min = OneDnn.kept(new ReductionLayout(x.shape(), x.stride(), dnnl_reduction_min),
                () -> reduction(x.shape(), x.stride(), dnnl_reduction_min));
        if (!max.usable() || !min.usable()) {
            try (INDArray absMax = x.amax(1)) {
                return absMax.toFloatVector();
            }
        }
        float[] hi, lo;
        try (INDArray top = Nd4j.createUninitialized(DataType.FLOAT, x.size(0), 1);
                INDArray bottom = Nd4j.createUninitialized(DataType.FLOAT, x.size(0), 1)) {
            max.run(x, top);
            min.run(x, bottom);
            hi = top.toFloatVector();
            lo = bottom.toFloatVector();
        }
        for (int i = 0; i < hi.length; i++) {
            hi[i] = Math.max(hi[i], -lo[i]);
        }
        return hi;
    }

    private static OneDnn.Primitive reduction(long[] dims, long[] strides, int algorithm) {
        dnnl_memory_desc_t from = OneDnn.desc(dims, OneDnnProducts.unitStrides(dims, strides), dnnl_f32);
        dnnl_memory_desc_t to = OneDnn.desc(new long[] {dims[0], 1}, new long[] {1, 1}, dnnl_f32);
        try (dnnl_reduction_desc_t op = new dnnl_reduction_desc_t()) {
            check(dnnl_reduction_desc_init(op, algorithm, from, to, 0f, 0f), "describing a row reduction");
            return new OneDnn.Primitive(OneDnn.primitiveDesc(op, null), REDUCTION_ROLES, from, to);
        } catch (RuntimeException e) {
            from.close();
            to.close();
            throw e;
        }
    }

    /**
     * {@code c} (float32 {@code [M, N]}, unit stride along its rows) times {@code rowScales} ({@code [M]}) row by row,
     * in place, on oneDNN's {@code binary} where it takes it, else libnd4j's (slower: docs/measurements.md).
     */
    static void scaleRows(INDArray c, INDArray rowScales) {
        INDArray column = rowScales.reshape(c.size(0), 1);
        OneDnn.Primitive p = OneDnn.kept(new ReductionLayout(c.shape(), c.stride(), dnnl_binary_mul),
                () -> rowScaling(c.shape(), OneDnnProducts.unitStrides(c.shape(), c.stride())));
        if (p.usable()) {
            p.run(c, column, c);
        } else {
            c.muliColumnVector(column);
        }
    }

    private static OneDnn.Primitive rowScaling(long[] dims, long[] strides) {
        dnnl_memory_desc_t[] descs = {OneDnn.desc(dims, strides, dnnl_f32),
                OneDnn.desc(new long[] {dims[0], 1}, new long[] {1, 1}, dnnl_f32),
                OneDnn.desc(dims, strides, dnnl_f32)};
        try (dnnl_binary_desc_t op = new dnnl_binary_desc_t()) {
            check(dnnl_binary_desc_init(op, dnnl_binary_mul, descs[0], descs[1], descs[2]), "describing row scaling");
            return new OneDnn.Primitive(OneDnn.primitiveDesc(op, null), SCALING_ROLES, descs);
        } catch (RuntimeException e) {
            for (dnnl_memory_desc_t d : descs) {
                d.close();
            }
            throw e;
        }
    }

    /** The layout of a reduction or a scaling ({@code algorithm}) of rows {@code dims} with {@code strides}. */
    private record ReductionLayout(long[] dims, long[] strides, int algorithm) {
        @Override
        public boolean equals(Object o) {
            return o instanceof ReductionLayout l && algorithm == l.algorithm && Arrays.equals(dims, l.dims)
                    && Arrays.equals(strides, l.strides);
        }

        @Override
        public int hashCode() {
            return (Arrays.hashCode(dims) * 31 + Arrays.hashCode(strides)) * 31 + algorithm;
        }
    }

    private static OneDnn.Primitive quantizer(long[] dims, long[] strides) {
        dnnl_memory_desc_t from = OneDnn.desc(dims, OneDnnProducts.unitStrides(dims, strides), dnnl_f32);
        dnnl_memory_desc_t to = OneDnn.desc(dims, rowMajor(dims), dnnl_u8);
        dnnl_memory_desc_t scale = OneDnn.desc(new long[] {dims[0]}, new long[] {1}, dnnl_f32);
        dnnl_memory_desc_t zeroPoint = OneDnn.desc(new long[] {1}, new long[] {1}, dnnl_s32);
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "creating reorder attributes");
        try {
            // one scale per row (mask: dimension 0)
            check(dnnl_primitive_attr_set_output_scales(attr, 1, 1, new float[] {RUNTIME_F32}),
                    "run-time scales");
            check(dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST, 1, 0, new int[] {DNNL_RUNTIME_S32_VAL}),
                    "a run-time zero point");
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_reorder_primitive_desc_create(pd, from, OneDnn.ENGINE, to, OneDnn.ENGINE, attr),
                    "describing a quantizing reorder");
            return new OneDnn.Primitive(pd, QUANTIZE_ROLES, from, to, scale, zeroPoint);
        } catch (RuntimeException e) {
            from.close();
            to.close();
            scale.close();
            zeroPoint.close();
            throw e;
        } finally {
            dnnl_primitive_attr_destroy(attr);
        }
    }

    /**
     * This thread's int8 product {@code c = columnScales ⊙ ((a − zeroPoint) · w)} for a u8 {@code a} ({@code [M, K]},
     * row-major), a quantized weight {@code w} ({@code [K, N]}, row-major s8) and a float32 {@code c} ({@code [M, N]});
     * run it with {@code a, w, c}, the {@code N} float32 column scales and the zero point as an int32 array of one.
     * Null where the shapes do not fit or oneDNN offers only its reference loop. The row scales are the caller's:
     * oneDNN 2.5's int8 {@code matmul} takes a per-row operand only through its reference loop.
     */
    static OneDnn.Primitive prepareProduct(INDArray a, INDArray w, INDArray c) {
        if (a.rank() != 2 || w.rank() != 2 || c.rank() != 2 || c.dataType() != DataType.FLOAT) {
            return null;
        }
        if (a.size(0) != c.size(0) || a.size(1) != w.size(0) || w.size(1) != c.size(1) || c.stride(1) != 1
                && c.size(1) > 1) {
            return null;
        }
        ProductLayout layout = new ProductLayout(a.shape(), w.shape(),
                OneDnnProducts.unitStrides(c.shape(), c.stride()), c.shape());
        OneDnn.Primitive p = OneDnn.kept(layout, layout::make);
        return p.usable() ? p : null;
    }

    private record ProductLayout(long[] aDims, long[] wDims, long[] cStrides, long[] cDims) {
        OneDnn.Primitive make() {
            dnnl_memory_desc_t[] descs = {OneDnn.desc(aDims, rowMajor(aDims), dnnl_u8),
                    OneDnn.desc(wDims, rowMajor(wDims), dnnl_s8), OneDnn.desc(cDims, cStrides, dnnl_f32),
                    OneDnn.desc(new long[] {wDims[1]}, new long[] {1}, dnnl_f32),
                    OneDnn.desc(new long[] {1}, new long[] {1}, dnnl_s32)};
            try (dnnl_matmul_desc_t op = new dnnl_matmul_desc_t()) {
                check(dnnl_matmul_desc_init(op, descs[0], descs[1], null, descs[2]), "describing an int8 matmul");
                dnnl_primitive_attr attr = new dnnl_primitive_attr();
                check(dnnl_primitive_attr_create(attr), "creating matmul attributes");
                try {
                    // one scale per column of c (mask: its dimension 1)
                    check(dnnl_primitive_attr_set_output_scales(attr, 1, 1 << 1,
                            new float[] {RUNTIME_F32}), "run-time scales");
                    check(dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0,
                            new int[] {DNNL_RUNTIME_S32_VAL}), "a run-time zero point");
                    return new OneDnn.Primitive(OneDnn.primitiveDesc(op, attr), PRODUCT_ROLES, descs);
                } finally {
                    dnnl_primitive_attr_destroy(attr);
                }
            } catch (RuntimeException e) {
                for (dnnl_memory_desc_t d : descs) {
                    d.close();
                }
                throw e;
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ProductLayout l && Arrays.equals(aDims, l.aDims)
                    && Arrays.equals(wDims, l.wDims) && Arrays.equals(cStrides, l.cStrides)
                    && Arrays.equals(cDims, l.cDims);
        }

        @Override
        public int hashCode() {
            return (Arrays.hashCode(aDims) * 31 + Arrays.hashCode(wDims)) * 31 + Arrays.hashCode(cStrides) * 7
                    + Arrays.hashCode(cDims);
        }
    }

    private record QuantizeLayout(long[] dims, long[] strides) {
        @Override
        public boolean equals(Object o) {
            return o instanceof QuantizeLayout l && Arrays.equals(dims, l.dims) && Arrays.equals(strides, l.strides);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(dims) * 31 + Arrays.hashCode(strides);
        }
    }

    private static long[] rowMajor(long[] dims) {
        long[] s = new long[dims.length];
        long stride = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = stride;
            stride *= dims[i];
        }
        return s;
    }

}
