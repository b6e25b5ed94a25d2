package dev.bertclf.nd4jfix;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOpDescriptor;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A libnd4j kernel under an op name of our own, so that its Java class can carry a gradient of its own (the
 * workarounds of this package whose fix is a cheaper or leaner gradient, not another kernel). One output, of input
 * 0's shape and type. Saved graphs name these ops with op number 0, which no libnd4j op has; {@link #register} lets
 * {@code SameDiff.load} find the class again.
 */
abstract class RenamedKernelOp extends DynamicCustomOp {
    private long kernelHash;

    /** For ND4J's deserialisation. */
    RenamedKernelOp() {
    }

    RenamedKernelOp(SameDiff sd, SDVariable... inputs) {
        super(sd, inputs);
    }

    /** The libnd4j custom op that computes it. */
    abstract String kernel();

    /** Fails, naming the shapes, unless the inputs are what the op's gradient assumes. Runs at every execution. */
    abstract void check(List<INDArray> inputs);

    @Override
    public long opHash() {
        if (kernelHash == 0) {
            CustomOpDescriptor d = Nd4j.getExecutioner().getCustomOperations().get(kernel());
            if (d == null) {
                throw new IllegalStateException("libnd4j has no custom op '" + kernel()
                        + "': unsupported ND4J version");
            }
            kernelHash = d.getHash();
        }
        return kernelHash;
    }

    @Override
    public List<LongShapeDescriptor> calculateOutputShape(OpContext oc) {
        check(oc.getInputArrays());
        INDArray a = oc.getInputArray(0);
        return List.of(LongShapeDescriptor.fromShape(a.shape(), a.dataType()));
    }

    @Override
    public int getNumOutputs() {
        return 1;
    }

    @Override
    public List<DataType> calculateOutputDataTypes(List<DataType> inputTypes) {
        return List.of(inputTypes.get(0));
    }

    @Override
    public Map<String, Object> propertiesForFunction() {
        return Map.of();
    }

    @Override
    public void setPropertiesForFunction(Map<String, Object> properties) {
    }

    /**
     * The column sums of {@code g [rows, n]}, shape {@code [n]}, as the GEMM {@code gᵀ · ones} with
     * {@code ones [rows, 1]}: M2.1's reduction along dimension 0 takes 4–5 ms on {@code [2048, 768]} and 22–27 ms on
     * {@code [2048, 3072]}, the GEMM about 1 ms for either (docs/performance.md, "Bias gradients as a GEMM").
     */
    static SDVariable columnSums(SDVariable g, SDVariable ones) {
        return g.getSameDiff().mmul(g, ones, true, false, false).reshape(-1);
    }

    /** Lets {@code SameDiff.load} recreate {@code type} for ops saved under {@code opName}. Idempotent. */
    @SuppressWarnings("unchecked")
    static synchronized void register(String opName, Class<? extends DynamicCustomOp> type) {
        try {
            Field f = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClasses");
            f.setAccessible(true);
            Map<String, Class<?>> byName = ((Map<Long, Map<String, Class<?>>>) f.get(
                    DifferentialFunctionClassHolder.getInstance())).computeIfAbsent(0L, k -> new HashMap<>());
            byName.putIfAbsent(opName, type);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "ND4J's op registry has no customOpHashToClasses: unsupported ND4J version", e);
        }
    }
}
