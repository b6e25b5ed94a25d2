package dev.bertclf.nd4jfix.repair;

import dev.bertclf.TinyGraphs;
import dev.bertclf.model.TfRuntime;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Graph;
import org.tensorflow.Output;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TF's batched products, imported by M2.1 with beta = 1, get beta = 0: they then compute TF's values whatever their
 * output array held before.
 */
class MatmulBetaZeroTest {
    @Test
    void importedBatchedProductsComputeTensorflowsValuesIntoOutputArraysHoldingGarbage() {
        TfRuntime.load();
        SameDiff sd;
        INDArray expected;
        try (Graph g = new Graph()) {
            Output<?> first = TinyGraphs.op(g, "BatchMatMulV2", "first",
                    TinyGraphs.constant(g, "a", TinyGraphs.random(41, 2, 3, 4, 5)),
                    TinyGraphs.constant(g, "b", TinyGraphs.random(42, 2, 3, 5, 4)));
            TinyGraphs.op(g, "BatchMatMulV2", "out", TinyGraphs.op(g, "Tanh", "t", first), first);
            sd = TinyGraphs.importGraph(TinyGraphs.graphDef(g));
            expected = TinyGraphs.runTf(g, "out");
        }
        List<Mmul> before = products(sd);
        assertEquals(2, before.size());
        for (Mmul m : before) {
            assertEquals(1.0, m.tArgs()[1], "M2.1 imports them with beta = 1; if this fails, the rewrite may go");
            assertTrue(Double.isNaN(intoNaNs(sd, m)), "with beta = 1 a product reads its output array");
        }

        assertEquals(2, new MatmulBetaZero().apply(sd));
        assertEquals(0, new MatmulBetaZero().apply(sd), "idempotent");
        for (Mmul m : products(sd)) {
            assertEquals(0.0, m.tArgs()[1]);
            assertTrue(Double.isFinite(intoNaNs(sd, m)), "with beta = 0 the output's old contents are not read");
        }
        assertEquals(0, sd.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-5);
    }

    private static List<Mmul> products(SameDiff sd) {
        return sd.getOps().values().stream().map(SameDiffOp::getOp).filter(o -> o instanceof Mmul)
                .map(o -> (Mmul) o).toList();
    }

    /** The sum of the product's output when its output array starts filled with NaN (inputs: random arrays). */
    private static double intoNaNs(SameDiff sd, Mmul m) {
        INDArray a = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 4);
        INDArray b = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 4);
        INDArray out = Nd4j.valueArrayOf(new long[] {2, 3, 4, 4}, Float.NaN, DataType.FLOAT);
        Nd4j.exec(DynamicCustomOp.builder("matmul").addInputs(a, b).addOutputs(out)
                .addIntegerArguments(java.util.Arrays.stream(m.iArgs()).mapToInt(i -> (int) i).toArray())
                .addFloatingPointArguments(toObjects(m.tArgs())).build());
        return out.sumNumber().doubleValue();
    }

    private static Double[] toObjects(double[] v) {
        Double[] o = new Double[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = v[i];
        }
        return o;
    }
}
