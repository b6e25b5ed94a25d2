package dev.bertclf.nd4jfix.speed;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inside {@link InputGradientsOnly#during}, the gradient of a graph's input through dense layers is libnd4j's, and
 * the weights' gradient products are not computed; outside it both are, as before.
 */
class InputGradientsOnlyTest {
    @BeforeAll
    static void install() {
        OneDnnKernelsTest.install();
    }

    /**
     * {@code loss = sum(tanh(x · w1) · w2 · c)}, an input through two dense layers (large enough that oneDNN takes
     * the products: it offers only its reference code for tiny ones, which the executioner leaves to libnd4j).
     */
    static SameDiff twoLayers() {
        Nd4j.getRandom().setSeed(3);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 96);
        SDVariable w1 = sd.var("w1", OneDnnKernelsTest.random(96, 80));
        SDVariable w2 = sd.var("w2", OneDnnKernelsTest.random(80, 48));
        SDVariable c = sd.constant("c", OneDnnKernelsTest.random(1, 48));
        sd.math.tanh(x.mmul(w1)).mmul(w2).mul(c).sum("loss");
        sd.setLossVariables("loss");
        return sd;
    }

    @Test
    void theInputsGradientIsLibnd4jsAndTheWeightsGradientProductsAreSkipped() {
        SameDiff sd = twoLayers();
        INDArray x = OneDnnKernelsTest.random(64, 96);
        INDArray expected;
        OneDnnExecutioner.LIBND4J_ONLY.set(true);
        try {
            expected = sd.calculateGradients(Map.of("x", x), "x").get("x").dup();
        } finally {
            OneDnnExecutioner.LIBND4J_ONLY.set(false);
        }
        long skipped = InputGradientsOnly.skipped();
        INDArray got = InputGradientsOnly.during(InputGradientsOnly.Weights.of(sd),
                () -> sd.calculateGradients(Map.of("x", x), "x").get("x").dup());
        assertEquals(2, InputGradientsOnly.skipped() - skipped, "w1's and w2's gradient products");
        assertTrue(expected.equalsWithEps(got, 1e-5), "expected " + expected + "\ngot " + got);
    }

    @Test
    void outsideTheScopeBothGradientsAreComputed() {
        SameDiff sd = twoLayers();
        INDArray x = OneDnnKernelsTest.random(64, 96);
        long skipped = InputGradientsOnly.skipped();
        Map<String, INDArray> g = sd.calculateGradients(Map.of("x", x), "x", "w1");
        assertEquals(skipped, InputGradientsOnly.skipped());
        // d loss / d w1 = x^T · ((c · w2^T) * (1 - tanh^2(x · w1)))
        INDArray h = Nd4j.math().tanh(x.mmul(sd.getVariable("w1").getArr()));
        INDArray up = sd.getArrForVarName("c").mmul(sd.getVariable("w2").getArr().transpose())
                .broadcast(64, 80).mul(h.mul(h).rsub(1));
        INDArray expected = x.transpose().mmul(up);
        assertTrue(expected.equalsWithEps(g.get("w1"), 1e-3), "expected " + expected + "\ngot " + g.get("w1"));
    }
}
