package dev.bertclf.model;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
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

    /**
     * Worst difference between {@code analytic}'s back-propagated gradient of the loss with respect to the scores
     * and central finite differences of {@code reference}'s forward pass.
     */
    static double worstGradientError(SameDiff analytic, SameDiff reference) {
        INDArray gradient = analytic.calculateGradients(Map.of(), "scores").get("scores").dup();
        INDArray x = reference.getVariable("scores").getArr();
        double eps = 1e-2;
        double worst = 0;
        for (long i = 0; i < x.length(); i++) {
            double v = x.getDouble(i);
            x.putScalar(i, v + eps);
            double up = reference.output(Map.of(), "loss").get("loss").getDouble(0);
            x.putScalar(i, v - eps);
            double down = reference.output(Map.of(), "loss").get("loss").getDouble(0);
            x.putScalar(i, v);
            worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - gradient.getDouble(i)));
        }
        return worst;
    }

    @Test
    void repairedSoftmaxGradientMatchesFiniteDifferencesBeforeAndAfterSaveAndLoad() throws Exception {
        SameDiff sd = trainable(true);
        assertTrue(sd.getVariable("scores").getArr().amaxNumber().doubleValue() > 0.5, "non-trivial scores");
        double before = worstGradientError(sd, sd);
        assertTrue(before < 2e-3, "gradient of the repaired softmax, worst error " + before);

        java.io.File file = java.nio.file.Files.createTempFile("softmax", ".fb").toFile();
        try {
            sd.save(file, false);
            SameDiff loaded = SameDiff.load(file, false);
            loaded.setLossVariables("loss");
            double after = worstGradientError(loaded, loaded);
            assertTrue(after < 2e-3, "after a save/load round trip, worst error " + after);
            assertEquals(0, loaded.outputSingle(Map.of(), "probs").sub(expected).amaxNumber().doubleValue(), 1e-6,
                    "and its forward pass still matches TensorFlow");
        } finally {
            file.delete();
        }
    }

    @Test
    void theUnrepairedGradientIsNotTheGradientOfTensorflowsSoftmax() {
        double err = worstGradientError(trainable(false), trainable(true));
        assertTrue(err > 0.05, "this check can fail: without the repair the gradient is off by " + err);
    }
}
