package dev.bertclf.model;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The class-weighted loss against its written formula, computed here by hand in doubles: Σ w[y_i]·CE_i / Σ w[y_i],
 * CE_i = −log softmax(logits_i)[y_i] (PyTorch's {@code CrossEntropyLoss(weight=w)}); its gradient against finite
 * differences of that formula.
 */
class WeightedLossTest {
    static final double[][] LOGITS = {{2.0, -1.0, 0.5}, {0.1, 0.2, 0.3}, {-1.5, 1.0, 2.5}, {0.0, 3.0, -2.0}};
    static final int[] LABELS = {0, 2, 1, 1};
    static final float[] WEIGHTS = {0.5f, 3.0f, 1.25f};

    /** The formula, by hand. */
    static double byHand(double[][] logits, int[] y, float[] w) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < logits.length; i++) {
            double max = Math.max(logits[i][0], Math.max(logits[i][1], logits[i][2]));
            double sum = 0;
            for (double z : logits[i]) {
                sum += Math.exp(z - max);
            }
            double ce = -(logits[i][y[i]] - max - Math.log(sum));
            num += w[y[i]] * ce;
            den += w[y[i]];
        }
        return num / den;
    }

    static SameDiff graph(float[] weights) {
        SameDiff sd = SameDiff.create();
        SDVariable logits = sd.var("z", Nd4j.createFromArray(LOGITS).castTo(DataType.FLOAT));
        SDVariable label = sd.placeHolder(GraphNames.LABEL, DataType.FLOAT, -1, 3);
        ClassifierHead.loss(sd, label, logits, weights);
        return sd;
    }

    static INDArray oneHot() {
        INDArray y = Nd4j.zeros(DataType.FLOAT, LABELS.length, 3);
        for (int i = 0; i < LABELS.length; i++) {
            y.putScalar(i, LABELS[i], 1);
        }
        return y;
    }

    @Test
    void theFormulaByHandIsPyTorchs() {
        // torch.nn.CrossEntropyLoss(weight=[0.5, 3.0, 1.25])(logits, [0, 2, 1, 1]), PyTorch 1.13, float64
        assertEquals(0.8628219247560067, byHand(LOGITS, LABELS, WEIGHTS), 1e-7);
    }

    @Test
    void theWeightedLossIsTheWeightedMeanDividedByTheSumOfTheBatchsWeights() {
        double loss = graph(WEIGHTS).output(Map.of(GraphNames.LABEL, oneHot()), GraphNames.LOSS).get(GraphNames.LOSS)
                .getDouble(0);
        assertEquals(byHand(LOGITS, LABELS, WEIGHTS), loss, 1e-5);
        // not the plain mean
        assertEquals(1.0, Math.abs(loss - byHand(LOGITS, LABELS, new float[]{1, 1, 1})) > 0.05 ? 1.0 : 0.0);
    }

    @Test
    void equalWeightsGiveTheUnweightedLoss() {
        double weighted = graph(new float[]{2, 2, 2}).output(Map.of(GraphNames.LABEL, oneHot()), GraphNames.LOSS)
                .get(GraphNames.LOSS).getDouble(0);
        double plain = graph(null).output(Map.of(GraphNames.LABEL, oneHot()), GraphNames.LOSS).get(GraphNames.LOSS)
                .getDouble(0);
        assertEquals(plain, weighted, 1e-6);
    }

    @Test
    void itsGradientMatchesFiniteDifferencesOfTheFormula() {
        SameDiff sd = graph(WEIGHTS);
        sd.setLossVariables(GraphNames.LOSS);
        INDArray grad = sd.calculateGradients(Map.of(GraphNames.LABEL, oneHot()), "z").get("z");
        double h = 1e-5;
        for (int i = 0; i < LOGITS.length; i++) {
            for (int j = 0; j < 3; j++) {
                double[][] up = copy(LOGITS);
                double[][] down = copy(LOGITS);
                up[i][j] += h;
                down[i][j] -= h;
                double numeric = (byHand(up, LABELS, WEIGHTS) - byHand(down, LABELS, WEIGHTS)) / (2 * h);
                assertEquals(numeric, grad.getDouble(i, j), 1e-4, "d loss / d z[" + i + "][" + j + "]");
            }
        }
    }

    private static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}
