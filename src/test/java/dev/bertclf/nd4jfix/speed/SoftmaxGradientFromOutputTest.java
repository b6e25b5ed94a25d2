package dev.bertclf.nd4jfix.speed;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.framework.GraphDef;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BERT's attention softmax as TF builds it ({@code softmax(scores + adder)}), given a gradient from its output:
 * it computes and differentiates what TF does, and backprop no longer reads the masked scores.
 */
class SoftmaxGradientFromOutputTest {
    static GraphDef graph;
    static INDArray expected;

    @BeforeAll
    static void buildInTensorflow() {
        Map.Entry<GraphDef, INDArray> tf = LeanAddGradientsTest.maskedSoftmaxInTensorflow();
        graph = tf.getKey();
        expected = tf.getValue();
    }

    /** The imported graph after the softmax repair and the mask add's rewrite, and with this rewrite or not. */
    static SameDiff imported(boolean rewritten) {
        SameDiff sd = LeanAddGradientsTest.maskedSoftmax(graph, true);
        if (rewritten) {
            assertEquals(1, new SoftmaxGradientFromOutput().apply(sd));
            assertEquals(0, new SoftmaxGradientFromOutput().apply(sd), "idempotent");
        }
        return sd;
    }

    @Test
    void theRewrittenSoftmaxComputesAndDifferentiatesWhatTensorflowDoesAlsoAfterSaveAndLoad() throws Exception {
        SameDiff sd = imported(true);
        assertEquals(0, sd.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-6);
        SameDiff reference = imported(false);
        for (String v : List.of("s0", "a0")) {
            double worst = dev.bertclf.TinyGraphs.worstGradientError(sd, reference, v);
            assertTrue(worst < 2e-3, v + ": worst gradient error " + worst);
        }
        INDArray g = sd.calculateGradients(Map.of(), "s0").get("s0");
        assertEquals(0, g.sub(reference.calculateGradients(Map.of(), "s0").get("s0")).amaxNumber().doubleValue(),
                1e-6, "equal to softmax_bp's");
        SameDiff loaded = dev.bertclf.TinyGraphs.saveAndLoad(sd);
        assertEquals(1, loaded.getOps().values().stream().filter(o -> o.getOp().opName()
                .equals(SoftmaxGradientFromOutput.SOFTMAX)).count(), "the loaded graph still has the rewritten op");
        assertTrue(dev.bertclf.TinyGraphs.worstGradientError(loaded, reference, "s0") < 2e-3, "after save/load");
    }

    @Test
    void backpropReadsTheSoftmaxsOutputNotTheMaskedScores() {
        assertTrue(!LeanAddGradientsTest.backwardReaders(imported(false), "masked", "s0").isEmpty(),
                "without the rewrite, softmax_bp reads its input; if this fails, ND4J changed and the rewrite may go");
        assertEquals(List.of(), LeanAddGradientsTest.backwardReaders(imported(true), "masked", "s0"));
    }

    @Test
    void scoresOfAnotherRankAreRefused() {
        SameDiff sd = SameDiff.create();
        SDVariable y = new SoftmaxGradientFromOutput.AttentionSoftmax(sd, sd.var("x", Nd4j.ones(2, 3, 4)))
                .outputVariable();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sd.outputSingle(Map.of(),
                y.name()));
        assertTrue(e.getMessage().contains("[batch, heads, from, to]") && e.getMessage().contains("[2, 3, 4]"),
                e.getMessage());
    }
}
