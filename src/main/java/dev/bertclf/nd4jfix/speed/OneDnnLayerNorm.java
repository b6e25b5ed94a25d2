package dev.bertclf.nd4jfix.speed;

import org.bytedeco.dnnl.dnnl_layer_normalization_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import static dev.bertclf.nd4jfix.speed.OneDnn.check;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_layer_normalization_forward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;

/**
 * LayerNorm over the last axis, {@code out = (x - mean) / std · gamma + beta} per row of {@code x [..., n]} with the
 * population deviation and no epsilon, as libnd4j's {@code layer_norm} computes it, on oneDNN's
 * {@code layer_normalization} primitive. Used by {@link OneDnnKernels} only.
 */
final class OneDnnLayerNorm {
    private static final int[] ROLES = {DNNL_ARG_SRC, DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_DST};

    private OneDnnLayerNorm() {
    }

    /**
     * Whether oneDNN takes these arrays: float32 {@code x} and {@code out} of one shape {@code [..., n]}
     * with rows laid out one after the other, {@code gamma} and {@code beta} {@code [n]}, the axis the last.
     */
    private static boolean fits(INDArray x, INDArray gamma, INDArray beta, INDArray out, long[] axes) {
        int r = x.rank();
        if (r < 2 || axes.length != 1 || (axes[0] != r - 1 && axes[0] != -1) || !x.equalShapes(out)) {
            return false;
        }
        long n = x.size(r - 1);
        for (INDArray a : new INDArray[] {x, gamma, beta, out}) {
            if (a.dataType() != DataType.FLOAT || a.isEmpty() || a.ordering() != 'c'
                    || !Shape.hasDefaultStridesForShape(a)) {
                return false;
            }
        }
        return gamma.rank() == 1 && beta.rank() == 1 && gamma.size(0) == n && beta.size(0) == n;
    }

    /**
     * This thread's primitive for {@code x}'s shape (run it with {@code x, gamma, beta, out}), or null where oneDNN
     * does not take these arrays ({@link #fits}) or offers only its reference implementation.
     */
    static OneDnn.Primitive prepare(INDArray x, INDArray gamma, INDArray beta, INDArray out, long[] axes) {
        if (!fits(x, gamma, beta, out, axes)) {
            return null;
        }
        long n = x.size(-1);
        Rows rows = new Rows(x.length() / n, n);
        OneDnn.Primitive p = OneDnn.kept(rows, rows::make);
        return p.usable() ? p : null;
    }

    /** {@code x} seen as {@code [count, n]}. */
    private record Rows(long count, long n) {
        OneDnn.Primitive make() {
            dnnl_memory_desc_t src = OneDnn.desc(new long[] {count, n}, new long[] {n, 1});
            dnnl_memory_desc_t scale = OneDnn.desc(new long[] {n}, new long[] {1});
            dnnl_memory_desc_t shift = OneDnn.desc(new long[] {n}, new long[] {1});
            dnnl_memory_desc_t dst = OneDnn.desc(new long[] {count, n}, new long[] {n, 1});
            try (dnnl_layer_normalization_desc_t op = new dnnl_layer_normalization_desc_t()) {
                // epsilon 0: libnd4j divides by the deviation itself
                check(dnnl_layer_normalization_forward_desc_init(op, dnnl_forward_inference, src, null, 0f,
                        dnnl_use_scale | dnnl_use_shift), "describing a layer normalization");
                return new OneDnn.Primitive(OneDnn.primitiveDesc(op, null), ROLES, src, scale, shift, dst);
            } catch (RuntimeException e) {
                src.close();
                scale.close();
                shift.close();
                dst.close();
                throw e;
            }
        }
    }
}
