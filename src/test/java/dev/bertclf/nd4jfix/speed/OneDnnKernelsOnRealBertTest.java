package dev.bertclf.nd4jfix.speed;

import dev.bertclf.RealBert;
import dev.bertclf.model.GraphNames;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.PretrainedBert;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the real BERT-base and real reviews, a forward pass and a training step's gradients (back through every layer)
 * computed with the oneDNN kernels equal libnd4j's own float32 results ({@link OneDnnKernels#inLibnd4j}). The
 * capped-ISA run ({@code IsaCapTest}) runs this test with oneDNN held to AVX2.
 */
@Tag("slow")
class OneDnnKernelsOnRealBertTest {
    /** Pooled outputs in [-1, 1]: float32 sums in another order move them by about 1e-6. */
    private static final double POOLED_TOLERANCE = 1e-4;
    /**
     * Relative to a gradient's largest element: another summation order moves it by about 3e-6 here (measured), a
     * kernel that computes wrong values by the order of the gradient itself.
     */
    private static final double GRADIENT_TOLERANCE = 1e-5;

    @Test
    void aForwardPassAndATrainingStepsGradientsEqualLibnd4jsOwnKernels() throws Exception {
        ModelDescriptor d = RealBert.descriptor();
        PretrainedBert.Loaded bert = PretrainedBert.load(d, RealBert.CACHE);
        SameDiff sd = bert.sd();
        Map<String, INDArray> inputs = RealBert.reviewInputs(bert, 4, 64);

        long productsBefore = OneDnnKernels.products();
        INDArray pooled = sd.output(inputs, GraphNames.POOLED).get(GraphNames.POOLED).dup();
        assertTrue(OneDnnKernels.products() > productsBefore, "the kernels ran on oneDNN");
        productsBefore = OneDnnKernels.products();
        INDArray reference = OneDnnKernels.inLibnd4j(() -> sd.output(inputs, GraphNames.POOLED)
                .get(GraphNames.POOLED).dup());
        assertTrue(OneDnnKernels.products() == productsBefore, "the reference pass ran in libnd4j");
        double pooledDiff = pooled.sub(reference).amaxNumber().doubleValue();
        System.out.printf("oneDNN kernels vs libnd4j on BERT-base [4, 64]: max |pooled diff| %.3g%n", pooledDiff);
        assertTrue(pooledDiff <= POOLED_TOLERANCE, "pooled output differs from libnd4j's by " + pooledDiff);

        List<String> weights = trainedWeights(d);
        Map<String, INDArray> gradients = RealBert.probeGradients(sd, weights, inputs);
        Map<String, INDArray> expected = OneDnnKernels.inLibnd4j(() -> RealBert.probeGradients(sd, weights, inputs));
        for (String w : weights) {
            double scale = expected.get(w).amaxNumber().doubleValue();
            double diff = gradients.get(w).sub(expected.get(w)).amaxNumber().doubleValue();
            System.out.printf("gradient %s: max |g| %.3g, max |diff| %.3g%n", w, scale, diff);
            assertTrue(scale > 0, w + " has a gradient");
            assertTrue(diff <= GRADIENT_TOLERANCE * scale, w + ": differs from libnd4j's by " + diff + " (largest "
                    + scale + ")");
        }
    }

    /** Weights of the first and last layers and the pooler: a gradient that reaches them crossed every layer. */
    private static List<String> trainedWeights(ModelDescriptor d) {
        List<String> weights = new ArrayList<>();
        for (int layer : new int[] {0, d.layers() - 1}) {
            for (String w : List.of("attention/self/query/kernel", "attention/self/value/bias",
                    "attention/output/LayerNorm/gamma", "intermediate/dense/kernel", "output/dense/kernel")) {
                weights.add(String.format(d.tensors().layerVariables(), layer) + w);
            }
        }
        weights.add(d.tensors().poolerKernel());
        return weights;
    }
}
