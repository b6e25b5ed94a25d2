package dev.bertclf.nd4jfix.speed;

import dev.bertclf.TinyGraphs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A LayerNorm over the last axis as {@code LayerNormOps} leaves it in BERT (rank 2 in the encoder, rank 3 after the
 * embeddings): after the rewrite it computes ND4J's {@code layer_norm} and back-propagates what ND4J's own
 * {@code layer_norm_bp} does, and the true gradient (finite differences), also after save and load.
 */
class DecomposedLayerNormGradientTest {
    static final List<String> TRAINABLE = List.of("x", "gamma", "beta");

    /** {@code loss = sum(LayerNorm(x) * w)} with {@code x [..shape]} and gamma, beta over its last axis. */
    static SameDiff layerNorm(long[] shape, boolean rewritten) {
        SameDiff sd = SameDiff.create();
        long n = shape[shape.length - 1];
        SDVariable x = sd.var("x", TinyGraphs.random(31, shape).muli(3).addi(0.5));
        SDVariable gamma = sd.var("gamma", TinyGraphs.random(32, n).addi(1));
        SDVariable beta = sd.var("beta", TinyGraphs.random(33, n));
        SDVariable normalized = sd.nn.layerNorm("normalized", x, gamma, beta, false, shape.length - 1);
        sd.constant("w", TinyGraphs.random(34, shape)).mul("out", normalized).sum("loss");
        sd.setLossVariables("loss");
        if (rewritten) {
            assertEquals(1, new DecomposedLayerNormGradient().apply(sd), "the LayerNorm");
            assertEquals(0, new DecomposedLayerNormGradient().apply(sd), "idempotent");
        }
        return sd;
    }

    static double worstDifference(Map<String, INDArray> a, Map<String, INDArray> b, String v) {
        return a.get(v).sub(b.get(v)).amaxNumber().doubleValue();
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void rewrittenLayerNormComputesNd4jsValuesAndGradientsAlsoAfterSaveAndLoad(int rank) throws Exception {
        long[] shape = rank == 2 ? new long[]{6, 8} : new long[]{3, 4, 8};
        SameDiff reference = layerNorm(shape, false);
        SameDiff rewritten = layerNorm(shape, true);
        assertTrue(rewritten.getOps().values().stream()
                .anyMatch(o -> o.getOp() instanceof DecomposedLayerNormGradient.LayerNormOp));
        INDArray expected = reference.outputSingle(Map.of(), "out");
        assertEquals(0, rewritten.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-6);

        Map<String, INDArray> nd4j = reference.calculateGradients(Map.of(), TRAINABLE);
        Map<String, INDArray> ours = rewritten.calculateGradients(Map.of(), TRAINABLE);
        for (String v : TRAINABLE) {
            assertTrue(worstDifference(ours, nd4j, v) < 1e-4, v + ": worst difference from layer_norm_bp "
                    + worstDifference(ours, nd4j, v));
            double worst = TinyGraphs.worstGradientError(rewritten, reference, v);
            assertTrue(worst < 2e-3, v + ": worst difference from finite differences " + worst);
        }

        SameDiff loaded = TinyGraphs.saveAndLoad(rewritten);
        assertTrue(loaded.getOps().values().stream()
                .anyMatch(o -> o.getOp().opName().equals(DecomposedLayerNormGradient.LAYER_NORM)));
        assertEquals(0, loaded.outputSingle(Map.of(), "out").sub(expected).amaxNumber().doubleValue(), 1e-6);
        Map<String, INDArray> afterLoad = loaded.calculateGradients(Map.of(), TRAINABLE);
        for (String v : TRAINABLE) {
            assertTrue(worstDifference(afterLoad, nd4j, v) < 1e-4, v + " after save/load");
        }
    }

    @Test
    void aGammaOfAnotherLengthThanTheLastAxisIsRefused() {
        SameDiff sd = SameDiff.create();
        SDVariable out = new DecomposedLayerNormGradient.LayerNormOp(sd, sd.var("x", Nd4j.ones(2, 3)),
                sd.var("gamma", Nd4j.ones(4)), sd.var("beta", Nd4j.ones(4)), 1).outputVariable();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sd.outputSingle(Map.of(),
                out.name()));
        assertTrue(e.getMessage().contains(Arrays.toString(new long[]{2, 3})) && e.getMessage().contains("[4]"),
                e.getMessage());
    }

    @Test
    void axisMinusOneOfARank3InputIsRefusedAsM21sReductionsGetItWrong() {
        SameDiff sd = SameDiff.create();
        SDVariable out = new DecomposedLayerNormGradient.LayerNormOp(sd, sd.var("x", Nd4j.ones(2, 3, 4)),
                sd.var("gamma", Nd4j.ones(4)), sd.var("beta", Nd4j.ones(4)), -1).outputVariable();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sd.outputSingle(Map.of(),
                out.name()));
        assertTrue(e.getMessage().contains("over axis -1"), e.getMessage());
    }
}
