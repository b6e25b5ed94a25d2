package dev.bertclf.nd4jfix.speed;

import dev.bertclf.TinyGraphs;
import dev.bertclf.model.TfRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.framework.GraphDef;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BERT's GELU as TF builds it, fused into one op: it computes what TF computes, back-propagates the true gradient,
 * runs on oneDNN, and turns back into ND4J's ops where oneDNN is not there.
 */
class FusedGeluTest {
    static GraphDef graph;
    static INDArray expected;

    @BeforeAll
    static void buildInTensorflow() {
        OneDnnKernels.install();
        TfRuntime.load();
        try (Graph g = new Graph()) {
            // standard deviation 3: GELU's negative tail, its bend and its linear part
            Output<?> x = TinyGraphs.constant(g, "x", TinyGraphs.random(11, 2, 3, 8).muli(3));
            // x is read after the GELU too, as a residual would read it
            TinyGraphs.op(g, "Add", "out", TinyGraphs.bertGelu(g, x), x);
            graph = TinyGraphs.graphDef(g);
            expected = TinyGraphs.runTf(g, "out");
        }
    }

    /** The imported graph after the scalar-constant rewrite (which the fusion expects), fused or not. */
    static SameDiff imported(boolean fused) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        sd.getVariable("x").convertToVariable();
        sd.enableEagerMode(); // as the importer leaves BERT
        new ScalarConstantOps().apply(sd);
        if (fused) {
            assertEquals(1, new FusedGelu().apply(sd), "one GELU");
            assertEquals(0, new FusedGelu().apply(sd), "idempotent");
        }
        SDVariable loss = sd.getVariable("out").mul(sd.constant("w", TinyGraphs.random(5, 2, 3, 8))).sum("loss");
        sd.setLossVariables(loss);
        return sd;
    }

    static long count(SameDiff sd, String opName) {
        return sd.getOps().values().stream().filter(o -> o.getOp().opName().equals(opName)).count();
    }

    static double maxDifference(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void theFusedGeluComputesWhatTensorflowComputesInOneOpOnOneDnn() {
        SameDiff sd = imported(true);
        assertEquals(1, count(sd, FusedGelu.GELU));
        for (String piece : new String[] {"cube", "tanh", "mul_scalar", "add_scalar"}) {
            assertEquals(0, count(sd, piece), piece + " is gone");
        }
        assertEquals(1, count(sd, "multiply"), "the loss's product is left, GELU's is gone");
        long before = OneDnnKernels.gelus();
        INDArray out = sd.outputSingle(Map.of(), "out");
        assertTrue(OneDnnKernels.gelus() > before, "oneDNN computed the GELU");
        assertEquals(0, maxDifference(out, expected), 2e-6);
    }

    @Test
    void theFusedGeluBackPropagatesTheTrueGradientAlsoAfterSaveAndLoad() throws Exception {
        SameDiff fused = imported(true);
        SameDiff unfused = imported(false);
        assertTrue(TinyGraphs.worstGradientError(fused, unfused, "x") < 2e-3, "against finite differences");
        INDArray g = fused.calculateGradients(Map.of(), "x").get("x");
        assertEquals(0, maxDifference(g, unfused.calculateGradients(Map.of(), "x").get("x")), 1e-5,
                "against the eight ops' own gradient");
        long before = OneDnnKernels.gelus();
        SameDiff loaded = TinyGraphs.saveAndLoad(fused);
        assertEquals(0, maxDifference(loaded.calculateGradients(Map.of(), "x").get("x"), g), 0, "after save/load");
        assertTrue(OneDnnKernels.gelus() >= before + 2, "oneDNN computed the GELU and its gradient");
        assertEquals(0, maxDifference(loaded.outputSingle(Map.of(), "out"), expected), 2e-6);
    }

    @Test
    void whereOneDnnIsNotThereTheGeluTurnsBackIntoNd4jsOps() {
        SameDiff sd = imported(true);
        assertEquals(1, FusedGelu.expand(sd));
        assertEquals(0, count(sd, FusedGelu.GELU));
        assertEquals(1, count(sd, "cube"));
        long before = OneDnnKernels.gelus();
        assertEquals(0, maxDifference(sd.outputSingle(Map.of(), "out"), expected), 2e-6);
        assertEquals(before, OneDnnKernels.gelus(), "no fused op ran");
        assertTrue(TinyGraphs.worstGradientError(sd, sd, "x") < 2e-3, "its gradient against finite differences");
    }

    @Test
    void arraysOneDnnDoesNotTakeGetTheSameValuesFromNd4jsOps() {
        INDArray x = TinyGraphs.random(7, 4, 16).muli(3);
        INDArray g = TinyGraphs.random(8, 4, 16);
        // a transposed view: not laid out in C order, so oneDNN declines it
        INDArray xView = x.dup('f').transpose().transpose();
        assertEquals(null, OneDnnGelu.prepareForward(xView, x.ulike()));
        INDArray oneDnnY = x.ulike();
        OneDnnGelu.prepareForward(x, oneDnnY).run(x, oneDnnY);
        INDArray oneDnnDx = x.ulike();
        OneDnnGelu.prepareBackward(x, g, oneDnnDx).run(x, g, oneDnnDx);
        INDArray y = x.ulike();
        FusedGelu.forwardWithNd4j(xView, y);
        INDArray dx = x.ulike();
        FusedGelu.backwardWithNd4j(xView, g, dx);
        assertEquals(0, maxDifference(y, oneDnnY), 2e-6);
        assertEquals(0, maxDifference(dx, oneDnnDx), 2e-6);
    }
}
