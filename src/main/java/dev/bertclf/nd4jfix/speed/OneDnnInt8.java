package dev.bertclf.nd4jfix.speed;

import org.bytedeco.dnnl.dnnl_matmul_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
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
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_RUNTIME_S32_VAL;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
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
 * {@link Int8Products}' two oneDNN primitives: the quantizing reorder of an activation (float32 to u8 with a scale
 * and a zero point given at each run) and the int8 {@code matmul} ({@code u8 · s8}, int32 sums, scaled to float32 by
 * one scale per output column given at each run). Used by {@link OneDnnExecutioner} only.
 */
final class OneDnnInt8 {
    private static final int[] QUANTIZE_ROLES = {DNNL_ARG_FROM, DNNL_ARG_TO, DNNL_ARG_ATTR_OUTPUT_SCALES,
            DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST};
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
     * {@code x} (float32, any strides) quantized into a new row-major u8 array of its shape:
     * {@code clamp(round(x / scale) + zeroPoint, 0, levels)}, {@code scale} and {@code zeroPoint} from
     * {@link Int8Products#activationRange}. Null where oneDNN has no fast reorder for it.
     */
    static Int8Products.QuantizedActivation quantize(INDArray x, int levels) {
        if (x.dataType() != DataType.FLOAT || x.isEmpty()) {
            return null;
        }
        OneDnn.Primitive p = OneDnn.kept(new QuantizeLayout(x.shape(), x.stride()),
                () -> quantizer(x.shape(), x.stride()));
        if (!p.usable()) {
            return null;
        }
        float[] range = Int8Products.activationRange(x, levels);
        INDArray q = Nd4j.createUninitialized(DataType.UBYTE, x.shape(), 'c');
        try (INDArray inverse = Nd4j.createFromArray(1f / range[0]);
                INDArray zeroPoint = Nd4j.createFromArray((int) range[1])) {
            p.run(x, q, inverse, zeroPoint);
        }
        return new Int8Products.QuantizedActivation(q, range[0], (int) range[1]);
    }

    private static OneDnn.Primitive quantizer(long[] dims, long[] strides) {
        dnnl_memory_desc_t from = OneDnn.desc(dims, OneDnnProducts.unitStrides(dims, strides), dnnl_f32);
        dnnl_memory_desc_t to = OneDnn.desc(dims, rowMajor(dims), dnnl_u8);
        dnnl_memory_desc_t scale = OneDnn.desc(new long[] {1}, new long[] {1}, dnnl_f32);
        dnnl_memory_desc_t zeroPoint = OneDnn.desc(new long[] {1}, new long[] {1}, dnnl_s32);
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "creating reorder attributes");
        try {
            check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, new float[] {RUNTIME_F32}),
                    "a run-time scale");
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
     * This thread's int8 product {@code c = scales ⊙ ((op(a) − zeroPoint) · w) + beta · c} for a u8 {@code a}
     * ({@code [M, K]}, row-major), a quantized weight {@code w} ({@code [K, N]}, row-major s8) and a float32
     * {@code c} ({@code [M, N]}); run it with {@code a, w, c}, the {@code N} float32 scales and the zero point as an
     * int32 array of one. Null where the shapes do not fit or oneDNN offers only its reference loop.
     */
    static OneDnn.Primitive prepareProduct(INDArray a, boolean ta, INDArray w, INDArray c, double beta) {
        if (a.rank() != 2 || w.rank() != 2 || c.rank() != 2 || c.dataType() != DataType.FLOAT) {
            return null;
        }
        long[] ad = ta ? new long[] {a.size(1), a.size(0)} : a.shape();
        long[] as = ta ? new long[] {a.stride(1), a.stride(0)} : a.stride();
        if (ad[0] != c.size(0) || ad[1] != w.size(0) || w.size(1) != c.size(1) || c.stride(1) != 1
                && c.size(1) > 1) {
            return null;
        }
        ProductLayout layout = new ProductLayout(ad, OneDnnProducts.unitStrides(ad, as), w.shape(),
                OneDnnProducts.unitStrides(c.shape(), c.stride()), c.shape(), (float) beta);
        OneDnn.Primitive p = OneDnn.kept(layout, layout::make);
        return p.usable() ? p : null;
    }

    private record ProductLayout(long[] aDims, long[] aStrides, long[] wDims, long[] cStrides, long[] cDims,
            float beta) {
        OneDnn.Primitive make() {
            dnnl_memory_desc_t[] descs = {OneDnn.desc(aDims, aStrides, dnnl_u8),
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
                    OneDnnProducts.addBeta(attr, beta);
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
            return o instanceof ProductLayout l && beta == l.beta && Arrays.equals(aDims, l.aDims)
                    && Arrays.equals(aStrides, l.aStrides) && Arrays.equals(wDims, l.wDims)
                    && Arrays.equals(cStrides, l.cStrides) && Arrays.equals(cDims, l.cDims);
        }

        @Override
        public int hashCode() {
            return ((Arrays.hashCode(aDims) * 31 + Arrays.hashCode(aStrides)) * 31 + Arrays.hashCode(wDims)) * 31
                    + Arrays.hashCode(cStrides) * 7 + Arrays.hashCode(cDims) + Float.hashCode(beta);
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
