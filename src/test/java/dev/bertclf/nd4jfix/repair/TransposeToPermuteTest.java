package dev.bertclf.nd4jfix.repair;

import dev.bertclf.model.TfRuntime;
import dev.bertclf.TinyGraphs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.framework.GraphDef;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Transpose with its permutation as an input (how BERT splits attention heads): the gradient must flow back
 * through the inverse permutation. loss = sum(transpose(x, [0,2,1]) * c), so dloss/dx = transpose(c, [0,2,1]).
 */
class TransposeToPermuteTest {
    static GraphDef graph;
    static INDArray x = TinyGraphs.random(5, 2, 3, 4);
    static INDArray c = TinyGraphs.random(6, 2, 4, 3);

    @BeforeAll
    static void buildInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            var xv = TinyGraphs.constant(g, "x", x);
            var perm = TinyGraphs.intConstant(g, "perm", new int[]{0, 2, 1});
            var t = g.opBuilder("Transpose", "t").addInput(xv).addInput(perm).build().output(0);
            var cv = TinyGraphs.constant(g, "c", c);
            var m = g.opBuilder("Mul", "m").addInput(t).addInput(cv).build().output(0);
            var axes = TinyGraphs.intConstant(g, "axes", new int[]{0, 1, 2});
            g.opBuilder("Sum", "loss").addInput(m).addInput(axes).build();
            graph = TinyGraphs.graphDef(g);
        }
    }

    private static INDArray gradientOfX(SameDiff sd) {
        sd.convertToVariables(List.of(sd.getVariable("x")));
        SDVariable loss = sd.getVariable("loss");
        sd.setLossVariables(loss);
        Map<String, INDArray> grads = sd.calculateGradients(Map.of(), "x");
        return grads.get("x");
    }

    @Test
    void gradientIsWrongWithoutTheRepair() {
        SameDiff sd = TinyGraphs.importGraph(graph);
        INDArray expected = c.permute(0, 2, 1);
        boolean wrong;
        try {
            INDArray g = gradientOfX(sd);
            wrong = !java.util.Arrays.equals(g.shape(), expected.shape())
                    || g.sub(expected).amaxNumber().doubleValue() > 1e-5;
        } catch (RuntimeException e) {
            wrong = true;
        }
        assertTrue(wrong, "M2.1 back-propagates a reverse transpose; if this fails, the repair may go");
    }

    @Test
    void repairedGradientMatchesTheInversePermutation() {
        SameDiff sd = TinyGraphs.importGraph(graph);
        assertEquals(1, new TransposeToPermute().apply(sd));
        assertEquals(0, new TransposeToPermute().apply(sd), "idempotent");
        assertEquals(0, sd.outputSingle(Map.of(), "loss").getDouble(0)
                - x.permute(0, 2, 1).mul(c).sumNumber().doubleValue(), 1e-4, "forward unchanged");
        INDArray g = gradientOfX(sd);
        INDArray expected = c.permute(0, 2, 1);
        assertArrayEquals(expected.shape(), g.shape());
        assertEquals(0, g.sub(expected).amaxNumber().doubleValue(), 1e-6);
    }
}
