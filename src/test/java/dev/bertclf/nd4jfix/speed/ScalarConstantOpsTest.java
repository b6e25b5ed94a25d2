package dev.bertclf.nd4jfix.speed;

import dev.bertclf.model.TfRuntime;
import dev.bertclf.TinyGraphs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.framework.GraphDef;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BERT's GELU, attention scale and LayerNorm epsilon as TF builds them: after the scalar-constant rewrite the
 * imported graph still computes what TensorFlow computes, and back-propagates the true gradient.
 */
class ScalarConstantOpsTest {
    static GraphDef graph;
    static INDArray expected;

    static Output<?> scalar(Graph g, String name, float v) {
        return TinyGraphs.constant(g, name, Nd4j.scalar(v));
    }

    static Output<?> op(Graph g, String type, String name, Output<?> a, Output<?> b) {
        return g.opBuilder(type, name).addInput(a).addInput(b).build().output(0);
    }

    @BeforeAll
    static void buildInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            Output<?> x = TinyGraphs.constant(g, "x", TinyGraphs.random(11, 2, 3, 4));
            Output<?> gelu = TinyGraphs.bertGelu(g, x);
            // attention-style scale, an epsilon added, a constant minus the tensor, the tensor minus a constant
            Output<?> scaled = op(g, "Mul", "scale", gelu, scalar(g, "inv_sqrt_d", 0.125f));
            Output<?> eps = op(g, "Add", "eps", scaled, scalar(g, "epsilon", 1e-3f));
            Output<?> flipped = op(g, "Sub", "flip", scalar(g, "two", 2f), eps);
            op(g, "Sub", "out", flipped, scalar(g, "quarter", 0.25f));
            graph = TinyGraphs.graphDef(g);
            expected = TinyGraphs.runTf(g, "out");
        }
    }

    /** The imported graph with x as a trainable variable (in BERT, such ops read activations, not constants). */
    static SameDiff imported(boolean rewritten) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        sd.getVariable("x").convertToVariable();
        // in BERT these ops read activations, whose arrays exist only while the graph runs
        sd.enableEagerMode();
        if (rewritten) {
            assertEquals(9, new ScalarConstantOps().apply(sd), "every op with a scalar constant");
            assertEquals(0, new ScalarConstantOps().apply(sd), "idempotent");
        }
        return sd;
    }

    @Test
    void rewrittenGraphComputesWhatTensorflowComputesWithFewerPairwiseOps() {
        SameDiff sd = imported(true);
        assertEquals(0, sd.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-6);
        assertTrue(sd.getOps().values().stream().noneMatch(o -> o.getOp().opName().equalsIgnoreCase("Pow")));
        assertEquals(1, sd.getOps().values().stream().filter(o -> o.getOp().opName().equals("cube")).count(),
                "x^3 is a cube");
        assertTrue(sd.getVariables().keySet().stream().noneMatch(n -> n.equals("gelu/c") || n.equals("gelu/three")),
                "the scalar constants are gone: " + sd.getVariables().keySet());
        assertEquals(0, imported(false).outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-6,
                "the unrewritten import agrees too");
    }

    @Test
    void rewrittenGraphBackPropagatesTheTrueGradientAlsoAfterSaveAndLoad() throws Exception {
        SameDiff sd = imported(true);
        SDVariable loss = sd.getVariable("out").mul(sd.constant("w", TinyGraphs.random(5, 2, 3, 4))).sum("loss");
        sd.setLossVariables(loss);
        double worst = TinyGraphs.worstGradientError(sd, sd, "x");
        assertTrue(worst < 2e-3, "worst gradient error " + worst);
        SameDiff loaded = TinyGraphs.saveAndLoad(sd);
        assertTrue(TinyGraphs.worstGradientError(loaded, loaded, "x") < 2e-3, "after save/load");
    }
}
