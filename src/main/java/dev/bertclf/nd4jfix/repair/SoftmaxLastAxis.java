package dev.bertclf.nd4jfix.repair;

import dev.bertclf.graph.GraphRewrite;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;

import java.lang.reflect.Field;
import java.util.List;

/**
 * Sets every imported softmax to the last axis.
 *
 * <p><b>Symptom:</b> the imported BERT computes a wrong pooled output, first diverging from TF at
 * {@code layer_0/attention/self/Softmax} (difference 0.94), with no error.
 * <p><b>Cause:</b> TF's {@code Softmax} works on the last axis; the M2.1 importer maps it to an ND4J softmax over a
 * constant dimension 1 ({@code tensorflow-mapping-ruleset.pbtxt}), in BERT the attention-heads axis. The int
 * argument and the private {@code dimension} field (which the backprop op is built from) must both change, and
 * neither has a setter, hence the reflection.
 * <p><b>Guarded by:</b> {@code SoftmaxLastAxisTest} (forward vs TF, gradient vs finite differences, after save and
 * load) and {@code BertParityTest}.
 * <p><b>Remove when:</b> a newer ND4J imports TF's Softmax on the last axis: {@code SoftmaxLastAxisTest}'s forward
 * case passes without this rewrite.
 */
public final class SoftmaxLastAxis implements GraphRewrite {
    public static final int LAST_AXIS = -1;

    @Override
    public int apply(SameDiff sd) {
        int changed = 0;
        for (SameDiffOp op : sd.getOps().values()) {
            DifferentialFunction f = op.getOp();
            if (f instanceof SoftMax softmax) {
                if (softmax.iArgs().length == 1 && softmax.iArgs()[0] == LAST_AXIS && dimension(softmax) == LAST_AXIS) {
                    continue;
                }
                clearIntArgs(softmax);
                softmax.addIArgument(LAST_AXIS);
                setDimension(softmax);
                changed++;
            }
        }
        return changed;
    }

    /** DynamicCustomOp has no public way to clear its int arguments (removeIArgument compares Integer to Long). */
    @SuppressWarnings("unchecked")
    private static void clearIntArgs(SoftMax op) {
        try {
            Field f = DynamicCustomOp.class.getDeclaredField("iArguments");
            f.setAccessible(true);
            ((List<Long>) f.get(op)).clear();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("DynamicCustomOp.iArguments not found: unsupported ND4J version", e);
        }
    }

    private static Field dimensionField() throws NoSuchFieldException {
        Field f = SoftMax.class.getDeclaredField("dimension");
        f.setAccessible(true);
        return f;
    }

    private static int dimension(SoftMax op) {
        try {
            return dimensionField().getInt(op);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SoftMax.dimension not found: unsupported ND4J version", e);
        }
    }

    /** The backprop op is built from the private field, not the iArg, so both must change. */
    private static void setDimension(SoftMax op) {
        try {
            dimensionField().setInt(op, LAST_AXIS);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SoftMax.dimension not found: unsupported ND4J version", e);
        }
    }
}
