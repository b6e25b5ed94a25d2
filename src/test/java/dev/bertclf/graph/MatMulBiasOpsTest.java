package dev.bertclf.graph;

import dev.bertclf.TinyGraphs;
import dev.bertclf.model.TfRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.framework.GraphDef;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dense layers as TF builds them ({@code BiasAdd(MatMul(x, W), b)}): after the rewrite the imported graph computes
 * what TensorFlow computes with one {@code xw_plus_b} per layer, and back-propagates the true gradient to the
 * input, the weights and the bias; a matmul that transposes its weights is left alone.
 */
class MatMulBiasOpsTest {
    static GraphDef graph;
    static INDArray expected;

    private static Output<?> op(Graph g, String type, String name, Output<?>... in) {
        var b = g.opBuilder(type, name);
        for (Output<?> i : in) {
            b.addInput(i);
        }
        return b.build().output(0);
    }

    /** {@code x [5, 6]} → dense {@code [6, 4]} → tanh → dense with transposed weights {@code [3, 4]ᵀ} → × w. */
    @BeforeAll
    static void buildInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            Output<?> x = op(g, "Identity", "hidden", TinyGraphs.constant(g, "x0", TinyGraphs.random(21, 5, 6)));
            Output<?> dense = op(g, "BiasAdd", "dense/BiasAdd", op(g, "MatMul", "dense/MatMul", x,
                    TinyGraphs.constant(g, "kernel", TinyGraphs.random(22, 6, 4))),
                    TinyGraphs.constant(g, "bias", TinyGraphs.random(23, 4)));
            Output<?> hidden = op(g, "Tanh", "dense/Tanh", dense);
            Output<?> transposed = g.opBuilder("MatMul", "other/MatMul").addInput(hidden)
                    .addInput(TinyGraphs.constant(g, "kernel2", TinyGraphs.random(24, 3, 4)))
                    .setAttr("transpose_b", true).build().output(0);
            Output<?> other = op(g, "BiasAdd", "other/BiasAdd", transposed,
                    TinyGraphs.constant(g, "bias2", TinyGraphs.random(25, 3)));
            op(g, "Mul", "out", other, TinyGraphs.constant(g, "w", TinyGraphs.random(26, 5, 3)));
            graph = TinyGraphs.graphDef(g);
            expected = TinyGraphs.runTf(g, "out");
        }
    }

    static SameDiff imported(boolean rewritten) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        for (String v : List.of("x0", "kernel", "bias")) {
            sd.getVariable(v).convertToVariable();
        }
        if (rewritten) {
            assertEquals(1, new MatMulBiasOps().apply(sd), "the dense layer, not the one with transposed weights");
            assertEquals(0, new MatMulBiasOps().apply(sd), "idempotent");
        }
        sd.setLossVariables(sd.getVariable("out").sum("loss"));
        return sd;
    }

    @Test
    void rewrittenGraphComputesWhatTensorflowComputesWithOneFusedOp() {
        SameDiff sd = imported(true);
        assertEquals(0, sd.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-5);
        assertEquals(1, sd.getOps().values().stream().filter(o -> o.getOp().opName().equals("xw_plus_b")).count());
        assertEquals(1, sd.getOps().values().stream().filter(o -> o.getOp().opName().equals("biasadd")).count(),
                "only the transposed layer keeps its bias add");
    }

    @Test
    void rewrittenGraphBackPropagatesTheTrueGradientAlsoAfterSaveAndLoad() throws Exception {
        SameDiff rewritten = imported(true);
        SameDiff reference = imported(false);
        for (String v : List.of("x0", "kernel", "bias")) {
            double worst = TinyGraphs.worstGradientError(rewritten, reference, v);
            assertTrue(worst < 2e-3, v + ": worst gradient error " + worst);
        }
        assertTrue(TinyGraphs.worstGradientError(TinyGraphs.saveAndLoad(rewritten), reference, "kernel") < 2e-3,
                "after save/load");
    }
}
