package dev.bertclf.nd4jfix.speed;

import org.bytedeco.dnnl.dnnl_eltwise_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import static dev.bertclf.nd4jfix.speed.OneDnn.check;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_backward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_forward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_gelu_tanh;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;

/**
 * BERT's GELU, {@code 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))}, and its gradient from {@code x}, on oneDNN's
 * {@code eltwise_gelu_tanh} primitive (the same formula). Used by {@link OneDnnKernels} for {@link FusedGelu}'s ops.
 */
final class OneDnnGelu {
    private static final int[] FORWARD_ROLES = {DNNL_ARG_SRC, DNNL_ARG_DST};
    private static final int[] BACKWARD_ROLES = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC};

    private OneDnnGelu() {
    }

    /** Whether oneDNN takes these arrays: float32, one length, each laid out densely in C order. */
    private static boolean fits(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a.dataType() != DataType.FLOAT || a.isEmpty() || a.length() != arrays[0].length()
                    || a.ordering() != 'c' || !Shape.hasDefaultStridesForShape(a)) {
                return false;
            }
        }
        return true;
    }

    /**
     * This thread's primitive computing {@code y = gelu(x)} (run it with {@code x, y}), or null where oneDNN does not.
     */
    static OneDnn.Primitive prepareForward(INDArray x, INDArray y) {
        if (!fits(x, y)) {
            return null;
        }
        Elements e = new Elements(x.length(), false);
        OneDnn.Primitive p = OneDnn.kept(e, e::make);
        return p.usable() ? p : null;
    }

    /**
     * This thread's primitive computing {@code dx = g · gelu'(x)} (run it with {@code x, g, dx}), or null where oneDNN
     * does not.
     */
    static OneDnn.Primitive prepareBackward(INDArray x, INDArray g, INDArray dx) {
        if (!fits(x, g, dx)) {
            return null;
        }
        Elements e = new Elements(x.length(), true);
        OneDnn.Primitive p = OneDnn.kept(e, e::make);
        return p.usable() ? p : null;
    }

    /** {@code count} elements seen as one row, forward or backward. */
    private record Elements(long count, boolean backward) {
        OneDnn.Primitive make() {
            long[] dims = {count};
            long[] strides = {1};
            dnnl_memory_desc_t src = OneDnn.desc(dims, strides);
            dnnl_memory_desc_t other = OneDnn.desc(dims, strides);
            dnnl_memory_desc_t diffSrc = backward ? OneDnn.desc(dims, strides) : null;
            try (dnnl_eltwise_desc_t fwd = new dnnl_eltwise_desc_t()) {
                check(dnnl_eltwise_forward_desc_init(fwd, dnnl_forward_training, dnnl_eltwise_gelu_tanh, src, 0f, 0f),
                        "describing a GELU");
                if (!backward) {
                    return new OneDnn.Primitive(OneDnn.primitiveDesc(fwd, null), FORWARD_ROLES, src, other);
                }
                dnnl_primitive_desc hint = OneDnn.primitiveDesc(fwd, null);
                dnnl_primitive_desc pd;
                try (dnnl_eltwise_desc_t bwd = new dnnl_eltwise_desc_t()) {
                    check(dnnl_eltwise_backward_desc_init(bwd, dnnl_eltwise_gelu_tanh, other, src, 0f, 0f),
                            "describing a GELU's gradient");
                    pd = OneDnn.primitiveDesc(bwd, null, hint);
                } catch (RuntimeException ex) {
                    dnnl_primitive_desc_destroy(hint);
                    throw ex;
                }
                // from here the primitive owns (and on failure closes) both descriptors
                return new OneDnn.Primitive(pd, hint, BACKWARD_ROLES, src, other, diffSrc);
            } catch (RuntimeException ex) {
                src.close();
                other.close();
                if (diffSrc != null) {
                    diffSrc.close();
                }
                throw ex;
            }
        }
    }
}
