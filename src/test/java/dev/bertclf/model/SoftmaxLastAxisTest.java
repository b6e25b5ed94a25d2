package dev.bertclf.model;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.framework.GraphDef;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TF's Softmax on a rank-4 tensor (like BERT's attention scores) normalises the last axis. */
class SoftmaxLastAxisTest {
    static GraphDef graph;
    static INDArray expected;

    @BeforeAll
    static void buildInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            var x = TinyGraphs.constant(g, "scores", TinyGraphs.random(3, 2, 3, 4, 5));
            g.opBuilder("Softmax", "probs").addInput(x).build();
            graph = TinyGraphs.graphDef(g);
            expected = TinyGraphs.runTf(g, "probs");
        }
    }

    @Test
    void importedSoftmaxIsWrongWithoutTheRepair() {
        SameDiff sd = TinyGraphs.importGraph(graph);
        INDArray actual = sd.outputSingle(java.util.Map.of(), "probs");
        assertTrue(actual.sub(expected).amaxNumber().doubleValue() > 0.1,
                "M2.1 normalises over axis 1; if this fails, the importer was fixed and the repair may go");
    }

    @Test
    void repairedSoftmaxMatchesTensorflow() {
        SameDiff sd = TinyGraphs.importGraph(graph);
        assertEquals(1, new SoftmaxLastAxis().apply(sd));
        assertEquals(0, new SoftmaxLastAxis().apply(sd), "idempotent");
        INDArray actual = sd.outputSingle(java.util.Map.of(), "probs");
        assertEquals(0, actual.sub(expected).amaxNumber().doubleValue(), 1e-6);
    }
}
