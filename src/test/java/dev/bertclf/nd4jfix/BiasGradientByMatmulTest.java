package dev.bertclf.nd4jfix;

import dev.bertclf.TinyGraphs;
import dev.bertclf.model.TfRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BiasAdd;
import org.tensorflow.Graph;
import org.tensorflow.framework.GraphDef;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TF's BiasAdd on a dense layer's output ([rows, n], as in BERT) and on a rank-3 tensor, moved to the bias gradient by
 * matrix product: it computes what TF computes and back-propagates the true gradients of input and bias.
 */
class BiasGradientByMatmulTest {
    static GraphDef graph;
    static INDArray expectedMatrix;
    static INDArray expectedRank3;

    @BeforeAll
    static void buildInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            var x = TinyGraphs.constant(g, "x", TinyGraphs.random(3, 6, 5));
            var b = TinyGraphs.constant(g, "b", TinyGraphs.random(4, 5));
            g.opBuilder("BiasAdd", "y").addInput(x).addInput(b).build();
            var x3 = TinyGraphs.constant(g, "x3", TinyGraphs.random(5, 2, 3, 4));
            var b3 = TinyGraphs.constant(g, "b3", TinyGraphs.random(6, 4));
            g.opBuilder("BiasAdd", "y3").addInput(x3).addInput(b3).build();
            graph = TinyGraphs.graphDef(g);
            expectedMatrix = TinyGraphs.runTf(g, "y");
            expectedRank3 = TinyGraphs.runTf(g, "y3");
        }
    }

    /** The imported graph with inputs and biases trainable and loss {@code sum(y * w) + sum(y3 * w3)}. */
    static SameDiff imported(boolean rewritten) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        for (String v : new String[]{"x", "b", "x3", "b3"}) {
            sd.getVariable(v).convertToVariable();
        }
        sd.enableEagerMode(); // as the importer leaves BERT
        if (rewritten) {
            assertEquals(2, new BiasGradientByMatmul().apply(sd));
            assertEquals(0, new BiasGradientByMatmul().apply(sd), "idempotent");
        }
        SDVariable loss = sd.getVariable("y").mul(sd.constant("w", TinyGraphs.random(7, 6, 5))).sum()
                .add(sd.getVariable("y3").mul(sd.constant("w3", TinyGraphs.random(8, 2, 3, 4))).sum()).rename("loss");
        sd.setLossVariables(loss);
        return sd;
    }

    static long matmulGradientOps(SameDiff sd) {
        return sd.getOps().values().stream()
                .filter(o -> o.getOp() instanceof BiasGradientByMatmul.MatmulBiasGradient).count();
    }

    @Test
    void rewrittenBiasAddComputesWhatTensorflowComputes() {
        SameDiff sd = imported(true);
        assertEquals(2, matmulGradientOps(sd));
        assertEquals(0, sd.outputSingle(Map.of(), "y").sub(expectedMatrix).amaxNumber().doubleValue(), 1e-6);
        assertEquals(0, sd.outputSingle(Map.of(), "y3").sub(expectedRank3).amaxNumber().doubleValue(), 1e-6);
    }

    @Test
    void rewrittenBiasAddBackPropagatesTheTrueGradientsAlsoAfterSaveAndLoad() throws Exception {
        SameDiff sd = imported(true);
        for (String v : new String[]{"x", "b", "x3", "b3"}) {
            double worst = TinyGraphs.worstGradientError(sd, sd, v);
            assertTrue(worst < 2e-3, "gradient of " + v + ", worst error " + worst);
        }
        SameDiff loaded = TinyGraphs.saveAndLoad(sd);
        assertEquals(2, matmulGradientOps(loaded), "the loaded graph still has the op with the matmul gradient");
        for (String v : new String[]{"b", "b3"}) {
            assertTrue(TinyGraphs.worstGradientError(loaded, loaded, v) < 2e-3, "after save/load, " + v);
        }
    }

    @Test
    void aSavedGraphGetsTheMatmulGradientBackOnlyWithTheRegistration() throws Exception {
        SameDiff sd = imported(true);
        OpRegistry.remove(BiasGradientByMatmul.OP_NAME);
        try {
            SameDiff loaded = TinyGraphs.saveAndLoad(sd);
            assertEquals(0, matmulGradientOps(loaded), "without the registration ND4J loads its own BiasAdd");
            assertTrue(loaded.getOps().values().stream().anyMatch(o -> o.getOp().getClass() == BiasAdd.class));
        } finally {
            BiasGradientByMatmul.registerForLoading();
        }
        assertEquals(2, matmulGradientOps(TinyGraphs.saveAndLoad(sd)));
    }
}
