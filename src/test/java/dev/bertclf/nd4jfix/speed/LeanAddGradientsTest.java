package dev.bertclf.nd4jfix.speed;

import dev.bertclf.nd4jfix.repair.SoftmaxLastAxis;

import dev.bertclf.TinyGraphs;
import dev.bertclf.model.TfRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.framework.GraphDef;

import java.util.List;
import java.util.Map;

import static dev.bertclf.TinyGraphs.op;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A dense layer, an add of its output and a residual add as BERT builds them, and its attention mask's add: after the
 * rewrite the imported graph computes what TensorFlow computes, back-propagates the true gradient, and its backprop
 * reads none of the inputs of the rewritten ops.
 */
class LeanAddGradientsTest {
    static GraphDef graph;
    static INDArray expected;

    /** {@code h = x·W + b} ({@code x [6, 4]}), {@code u = h + tanh(h)}, {@code out = u * (h + r) * w}. */
    @BeforeAll
    static void buildInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            Output<?> x = op(g, "Identity", "hidden", TinyGraphs.constant(g, "x0", TinyGraphs.random(21, 6, 4)));
            Output<?> h = op(g, "BiasAdd", "dense/BiasAdd", op(g, "MatMul", "dense/MatMul", x,
                    TinyGraphs.constant(g, "kernel", TinyGraphs.random(22, 4, 5))),
                    TinyGraphs.constant(g, "bias", TinyGraphs.random(23, 5)));
            Output<?> u = op(g, "Add", "inner", h, op(g, "Tanh", "t", h));
            Output<?> residual = op(g, "Identity", "residual",
                    TinyGraphs.constant(g, "r0", TinyGraphs.random(24, 6, 5)));
            op(g, "Mul", "out", op(g, "Mul", "product", u, op(g, "Add", "sum", h, residual)),
                    TinyGraphs.constant(g, "w", TinyGraphs.random(25, 6, 5)));
            graph = TinyGraphs.graphDef(g);
            expected = TinyGraphs.runTf(g, "out");
        }
    }

    static SameDiff imported(boolean rewritten) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        for (String v : List.of("x0", "kernel", "bias", "r0")) {
            sd.getVariable(v).convertToVariable();
        }
        sd.enableEagerMode(); // as the importer leaves BERT
        if (rewritten) {
            assertEquals(3, new LeanAddGradients().apply(sd), "the bias add and both adds");
            assertEquals(0, new LeanAddGradients().apply(sd), "idempotent");
        }
        sd.setLossVariables(sd.getVariable("out").sum("loss"));
        return sd;
    }

    @Test
    void rewrittenGraphComputesWhatTensorflowComputes() {
        SameDiff sd = imported(true);
        assertEquals(0, sd.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-5);
        assertEquals(1, sd.getOps().values().stream()
                .filter(o -> o.getOp() instanceof LeanAddGradients.MatrixBiasAdd).count());
        assertEquals(2, sd.getOps().values().stream()
                .filter(o -> o.getOp() instanceof LeanAddGradients.SameShapeAdd).count());
    }

    @Test
    void rewrittenGraphBackPropagatesTheTrueGradientAlsoAfterSaveAndLoad() throws Exception {
        SameDiff rewritten = imported(true);
        SameDiff reference = imported(false);
        for (String v : List.of("x0", "kernel", "bias", "r0")) {
            double worst = TinyGraphs.worstGradientError(rewritten, reference, v);
            assertTrue(worst < 2e-3, v + ": worst gradient error " + worst);
        }
        SameDiff loaded = TinyGraphs.saveAndLoad(rewritten);
        assertEquals(3, loaded.getOps().values().stream().filter(o -> o.getOp().opName().startsWith("bertclf_"))
                .count(), "the loaded graph still has the rewritten ops");
        assertEquals(0, loaded.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-5);
        for (String v : List.of("x0", "bias")) {
            assertTrue(TinyGraphs.worstGradientError(loaded, reference, v) < 2e-3, v + " after save/load");
        }
    }

    /** Ops of the gradient function that read {@code variable}. */
    static List<String> backwardReaders(SameDiff sd, String variable) {
        return backwardReaders(sd, variable, "x0");
    }

    /** Ops of the gradient function (of the loss by {@code wrt}) that read {@code variable}. */
    static List<String> backwardReaders(SameDiff sd, String variable, String wrt) {
        sd.createGradFunction(wrt);
        SameDiff grad = sd.getFunction("grad");
        return grad.getOps().values().stream()
                .filter(o -> o.getInputsToOp() != null && o.getInputsToOp().contains(variable))
                .map(SameDiffOp::getName)
                .filter(name -> !sd.getOps().containsKey(name)).toList();
    }

    @Test
    void backpropReadsNeitherTheMatmulOutputNorTheInputsOfTheAdds() {
        // the matmul output feeds only the bias add; tanh(h) only the inner add; ND4J's own gradients read both
        String matmul = "dense/MatMul";
        String tanh = "t";
        SameDiff before = imported(false);
        assertTrue(!backwardReaders(before, matmul).isEmpty() && !backwardReaders(before, tanh).isEmpty(),
                "without the rewrite, biasadd_bp and add_bp read them; if this fails, ND4J changed and the rewrite"
                        + " may go");
        SameDiff after = imported(true);
        assertEquals(List.of(), backwardReaders(after, matmul));
        assertEquals(List.of(), backwardReaders(after, tanh));
    }

    @Test
    void inputsOfOtherShapesAreRefusedNotBroadcast() {
        SameDiff sd = SameDiff.create();
        SDVariable a = sd.var("a", Nd4j.ones(2, 3));
        SDVariable row = sd.var("row", Nd4j.ones(1, 3));
        SDVariable sum = new LeanAddGradients.SameShapeAdd(sd, a, row).outputVariable();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sd.outputSingle(Map.of(),
                sum.name()));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[1, 3]"), e.getMessage());
        SameDiff rank3 = SameDiff.create();
        SDVariable biased = new LeanAddGradients.MatrixBiasAdd(rank3, rank3.var("x", Nd4j.ones(2, 2, 3)),
                rank3.var("b", Nd4j.ones(3))).outputVariable();
        e = assertThrows(IllegalStateException.class, () -> rank3.outputSingle(Map.of(), biased.name()));
        assertTrue(e.getMessage().contains("[rows, n]"), e.getMessage());
    }

    /** BERT's attention: {@code softmax(scores + adder)} with the adder {@code [2, 1, 4, 5]} broadcast over 3 heads. */
    static Map.Entry<GraphDef, INDArray> maskedSoftmaxInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            Output<?> scores = op(g, "Identity", "scores",
                    TinyGraphs.constant(g, "s0", TinyGraphs.random(31, 2, 3, 4, 5)));
            Output<?> adder = op(g, "Identity", "adder",
                    TinyGraphs.constant(g, "a0", TinyGraphs.random(32, 2, 1, 4, 5)));
            op(g, "Mul", "out", op(g, "Softmax", "probabilities", op(g, "Add", "masked", scores, adder)),
                    TinyGraphs.constant(g, "w", TinyGraphs.random(33, 2, 3, 4, 5)));
            return Map.entry(TinyGraphs.graphDef(g), TinyGraphs.runTf(g, "out"));
        }
    }

    static SameDiff maskedSoftmax(GraphDef graph, boolean rewritten) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        for (String v : List.of("s0", "a0")) {
            sd.getVariable(v).convertToVariable();
        }
        sd.enableEagerMode();
        new SoftmaxLastAxis().apply(sd);
        if (rewritten) {
            assertEquals(1, new LeanAddGradients().apply(sd), "the mask's add");
            assertEquals(0, new LeanAddGradients().apply(sd), "idempotent");
        }
        sd.setLossVariables(sd.getVariable("out").sum("loss"));
        return sd;
    }

    @Test
    void theAttentionMasksAddComputesAndDifferentiatesWhatTensorflowDoesWithoutHoldingTheScores() throws Exception {
        Map.Entry<GraphDef, INDArray> tf = maskedSoftmaxInTensorflow();
        SameDiff rewritten = maskedSoftmax(tf.getKey(), true);
        SameDiff reference = maskedSoftmax(tf.getKey(), false);
        assertEquals(0, rewritten.outputSingle(Map.of(), "out").sub(tf.getValue()).amaxNumber().doubleValue(), 1e-6);
        for (String v : List.of("s0", "a0")) {
            double worst = TinyGraphs.worstGradientError(rewritten, reference, v);
            assertTrue(worst < 2e-3, v + ": worst gradient error " + worst);
        }
        SameDiff loaded = TinyGraphs.saveAndLoad(rewritten);
        assertTrue(TinyGraphs.worstGradientError(loaded, reference, "a0") < 2e-3, "after save/load");
        assertTrue(!backwardReaders(maskedSoftmax(tf.getKey(), false), "scores", "s0").isEmpty(),
                "without the rewrite, add_bp reads the scores; if this fails, ND4J changed and the rewrite may go");
        assertEquals(List.of(), backwardReaders(maskedSoftmax(tf.getKey(), true), "scores", "s0"));
    }

    @Test
    void anAdderThatIsNotBroadcastOverTheHeadsIsRefused() {
        SameDiff sd = SameDiff.create();
        SDVariable sum = new LeanAddGradients.MaskAdd(sd, sd.var("s", Nd4j.ones(2, 3, 4, 5)),
                sd.var("a", Nd4j.ones(2, 3, 4, 5))).outputVariable();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sd.outputSingle(Map.of(),
                sum.name()));
        assertTrue(e.getMessage().contains("[batch, 1, from, to]") && e.getMessage().contains("[2, 3, 4, 5]"),
                e.getMessage());
    }
}
