package dev.bertclf.nd4jfix.repair;

import dev.bertclf.TinyGraphs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.framework.GraphDef;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TF's Softmax on a rank-4 tensor (like BERT's attention scores) normalises the last axis. */
class SoftmaxLastAxisTest {
    static GraphDef graph;
    static INDArray expected;

    @BeforeAll
    static void buildInTensorflow() {
        TinyGraphs.OneOp tf = TinyGraphs.oneOp("Softmax", "scores", TinyGraphs.random(3, 2, 3, 4, 5), "probs");
        graph = tf.graph();
        expected = tf.expected();
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

    /** The imported graph, repaired or not, with the scores as a trainable variable and loss {@code sum(probs * w)}. */
    static SameDiff trainable(boolean repaired) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        if (repaired) {
            new SoftmaxLastAxis().apply(sd);
        }
        sd.getVariable("scores").convertToVariable();
        SDVariable w = sd.constant("w", TinyGraphs.random(7, 3, 4, 5));
        SDVariable loss = sd.getVariable("probs").mul(w).sum("loss");
        sd.setLossVariables(loss);
        return sd;
    }

    @Test
    void repairedSoftmaxGradientMatchesFiniteDifferencesBeforeAndAfterSaveAndLoad() throws Exception {
        SameDiff sd = trainable(true);
        assertTrue(sd.getVariable("scores").getArr().amaxNumber().doubleValue() > 0.5, "non-trivial scores");
        double before = TinyGraphs.worstGradientError(sd, sd, "scores");
        assertTrue(before < 2e-3, "gradient of the repaired softmax, worst error " + before);

        SameDiff loaded = TinyGraphs.saveAndLoad(sd);
        double after = TinyGraphs.worstGradientError(loaded, loaded, "scores");
        assertTrue(after < 2e-3, "after a save/load round trip, worst error " + after);
        assertEquals(0, loaded.outputSingle(Map.of(), "probs").sub(expected).amaxNumber().doubleValue(), 1e-6,
                "and its forward pass still matches TensorFlow");
    }

    @Test
    void theUnrepairedGradientIsNotTheGradientOfTensorflowsSoftmax() {
        double err = TinyGraphs.worstGradientError(trainable(false), trainable(true), "scores");
        assertTrue(err > 0.05, "this check can fail: without the repair the gradient is off by " + err);
    }
}
