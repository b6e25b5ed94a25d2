package dev.bertclf.nd4jfix.speed;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOpDescriptor;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * A libnd4j kernel under an op name of our own, so that its Java class can carry a gradient of its own (the
 * workarounds of this package whose fix is a cheaper or leaner gradient, not another kernel). One output, of input
 * 0's shape and type.
 */
abstract class RenamedKernelOp extends OneOutputOp {
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

    /**
     * The column sums of {@code g [rows, n]}, shape {@code [n]}, as the GEMM {@code gᵀ · ones} with
     * {@code ones [rows, 1]}: M2.1's reduction along dimension 0 is several times slower than that GEMM
     * (docs/performance.md, "Bias gradients as a GEMM").
     */
    static SDVariable columnSums(SDVariable g, SDVariable ones) {
        return g.getSameDiff().mmul(g, ones, true, false, false).reshape(-1);
    }
}
