package dev.bertclf.nd4jfix.speed;

import dev.bertclf.TinyGraphs;
import dev.bertclf.model.TfRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.framework.GraphDef;

import java.util.List;
import java.util.Map;

import static dev.bertclf.TinyGraphs.op;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LayerNorm as {@code tf.contrib.layers.layer_norm} builds it in BERT (moments with a stop-gradient, then the
 * batch-norm arithmetic): after the rewrite the imported graph computes what TensorFlow computes with one fused
 * op, and back-propagates the true gradient to the input, gamma and beta.
 */
class LayerNormOpsTest {
    static GraphDef bert;
    static GraphDef largeEpsilon;
    static INDArray expected;

    private static Output<?> mean(Graph g, String name, Output<?> x) {
        return g.opBuilder("Mean", name).addInput(x).addInput(TinyGraphs.intConstant(g, name + "/axis", new int[]{2}))
                .setAttr("keep_dims", true).build().output(0);
    }

    /** {@code x [3, 4, 8]} through BERT's LayerNorm with gamma and beta {@code [8]}, times a fixed weight. */
    private static GraphDef layerNorm(Graph g, float epsilon) {
        // in BERT the LayerNorm reads an activation: here an op on the input constant x0 (not named "x": M2.1's
        // importer then fails on the Mean that reads it, "did not contain a tensor with name x")
        Output<?> x = op(g, "Identity", "hidden", TinyGraphs.constant(g, "x0", TinyGraphs.random(11, 3, 4, 8)));
        Output<?> gamma = TinyGraphs.constant(g, "gamma", TinyGraphs.random(12, 8).addi(1));
        Output<?> beta = TinyGraphs.constant(g, "beta", TinyGraphs.random(13, 8));
        Output<?> m = mean(g, "LayerNorm/mean", x);
        Output<?> stop = op(g, "StopGradient", "LayerNorm/moments/StopGradient", m);
        Output<?> variance = mean(g, "LayerNorm/variance",
                op(g, "SquaredDifference", "LayerNorm/moments/SquaredDifference", x, stop));
        Output<?> rsqrt = op(g, "Rsqrt", "LayerNorm/batchnorm/Rsqrt", op(g, "Add", "LayerNorm/batchnorm/add",
                variance, TinyGraphs.constant(g, "LayerNorm/batchnorm/add/y", Nd4j.scalar(epsilon))));
        Output<?> scale = op(g, "Mul", "LayerNorm/batchnorm/mul", rsqrt, gamma);
        Output<?> shift = op(g, "Sub", "LayerNorm/batchnorm/sub", beta,
                op(g, "Mul", "LayerNorm/batchnorm/mul_2", m, scale));
        Output<?> normalized = op(g, "Add", "LayerNorm/batchnorm/add_1",
                op(g, "Mul", "LayerNorm/batchnorm/mul_1", x, scale), shift);
        op(g, "Mul", "out", normalized, TinyGraphs.constant(g, "w", TinyGraphs.random(5, 3, 4, 8)));
        return TinyGraphs.graphDef(g);
    }

    @BeforeAll
    static void buildInTensorflow() {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            bert = layerNorm(g, 1e-12f);
            expected = TinyGraphs.runTf(g, "out");
        }
        try (Graph g = new Graph()) {
            largeEpsilon = layerNorm(g, 1e-3f);
        }
    }

    /** The imported graph with x, gamma and beta trainable, after the scalar rewrite (and the LayerNorm one). */
    static SameDiff imported(GraphDef graph, boolean rewritten) {
        SameDiff sd = TinyGraphs.importGraph(graph);
        for (String v : List.of("x0", "gamma", "beta")) {
            sd.getVariable(v).convertToVariable();
        }
        sd.enableEagerMode();
        new ScalarConstantOps().apply(sd);
        if (rewritten) {
            assertEquals(1, new LayerNormOps().apply(sd), "the LayerNorm");
            assertEquals(0, new LayerNormOps().apply(sd), "idempotent");
        }
        SDVariable loss = sd.getVariable("out").sum("loss");
        sd.setLossVariables(loss);
        return sd;
    }

    @Test
    void rewrittenGraphComputesWhatTensorflowComputesWithOneFusedOp() {
        SameDiff sd = imported(bert, true);
        assertEquals(0, sd.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-5);
        assertTrue(sd.getOps().values().stream().anyMatch(o -> o.getOp().opName().equals("layer_norm")));
        assertTrue(sd.getOps().values().stream().noneMatch(o -> List.of("rsqrt", "squaredsubtract", "reduce_mean")
                .contains(o.getOp().opName())), "the subgraph is gone");
    }

    @Test
    void rewrittenGraphBackPropagatesTheTrueGradientAlsoAfterSaveAndLoad() throws Exception {
        SameDiff rewritten = imported(bert, true);
        SameDiff reference = imported(bert, false);
        for (String v : List.of("x0", "gamma", "beta")) {
            double worst = TinyGraphs.worstGradientError(rewritten, reference, v);
            assertTrue(worst < 2e-3, v + ": worst gradient error " + worst);
        }
        SameDiff loaded = TinyGraphs.saveAndLoad(rewritten);
        assertTrue(TinyGraphs.worstGradientError(loaded, reference, "x0") < 2e-3, "after save/load");
    }

    @Test
    void aLayerNormWithALargerEpsilonThanNd4jsIsLeftAsItIs() {
        SameDiff sd = TinyGraphs.importGraph(largeEpsilon);
        new ScalarConstantOps().apply(sd);
        assertEquals(0, new LayerNormOps().apply(sd));
    }
}
