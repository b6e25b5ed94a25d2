package dev.bertclf.model;

import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;

import java.lang.reflect.Field;
import java.util.List;

/**
 * TF's Softmax works on the last axis; M2.1's importer maps it to an nd4j softmax over a constant dimension 1
 * (the attention heads axis in BERT), so attention probabilities are normalised over the wrong axis.
 * Sets every softmax to the last axis (-1).
 */
public final class SoftmaxLastAxis implements GraphRepair {
    static final int LAST_AXIS = -1;

    @Override
    public String name() {
        return "softmax-last-axis";
    }

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
