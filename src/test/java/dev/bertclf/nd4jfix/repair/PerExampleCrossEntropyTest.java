package dev.bertclf.nd4jfix.repair;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.loss.LossReduce;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PerExampleCrossEntropyTest {
    static final double[][] LOGITS = {{2.0, -1.0, 0.5}, {0.1, 0.2, 0.3}, {-1.5, 1.0, 2.5}};
    static final int[] LABELS = {0, 2, 1};
    static final double[] WEIGHTS = {0.5, 3.0, 1.25};

    /** −log softmax(z)[y], worked out in doubles. */
    static double byHand(double[] z, int y) {
        double sum = 0;
        for (double x : z) {
            sum += Math.exp(x);
        }
        return Math.log(sum) - z[y];
    }

    /** Σ_i WEIGHTS[i] · CE_i, by hand. */
    static double weightedSum(double[][] z) {
        double s = 0;
        for (int i = 0; i < z.length; i++) {
            s += WEIGHTS[i] * byHand(z[i], LABELS[i]);
        }
        return s;
    }

    static INDArray oneHot() {
        INDArray y = Nd4j.zeros(DataType.FLOAT, LABELS.length, 3);
        for (int i = 0; i < LABELS.length; i++) {
            y.putScalar(i, LABELS[i], 1);
        }
        return y;
    }

    /** The gradient of Σ_i WEIGHTS[i] · CE_i with respect to the logits, CE computed by {@code perExample}. */
    static INDArray gradientOfWeightedSum(BiFunction<SameDiff, SDVariable[], SDVariable> perExample) {
        SameDiff sd = SameDiff.create();
        SDVariable z = sd.var("z", Nd4j.createFromArray(LOGITS).castTo(DataType.FLOAT));
        SDVariable y = sd.constant(oneHot());
        SDVariable w = sd.constant(Nd4j.createFromArray(WEIGHTS).castTo(DataType.FLOAT).reshape(-1, 1));
        perExample.apply(sd, new SDVariable[]{y, z}).mul(w).sum().rename("loss");
        sd.setLossVariables("loss");
        return sd.calculateGradients(Map.of(), "z").get("z");
    }

    /** The largest difference between a gradient and finite differences of {@link #weightedSum}. */
    static double largestErrorAgainstFiniteDifferences(INDArray grad) {
        double h = 1e-5;
        double largest = 0;
        for (int i = 0; i < LOGITS.length; i++) {
            for (int j = 0; j < 3; j++) {
                double[][] up = new double[LOGITS.length][];
                double[][] down = new double[LOGITS.length][];
                for (int k = 0; k < LOGITS.length; k++) {
                    up[k] = LOGITS[k].clone();
                    down[k] = LOGITS[k].clone();
                }
                up[i][j] += h;
                down[i][j] -= h;
                double numeric = (weightedSum(up) - weightedSum(down)) / (2 * h);
                largest = Math.max(largest, Math.abs(numeric - grad.getDouble(i, j)));
            }
        }
        return largest;
    }

    @Test
    void eachExampleGetsItsOwnCrossEntropy() {
        SameDiff sd = SameDiff.create();
        SDVariable z = sd.constant(Nd4j.createFromArray(LOGITS).castTo(DataType.FLOAT));
        INDArray ce = PerExampleCrossEntropy.of(sd, sd.constant(oneHot()), z).eval();
        assertEquals(LABELS.length, ce.length());
        for (int i = 0; i < LABELS.length; i++) {
            assertEquals(byHand(LOGITS[i], LABELS[i]), ce.getDouble(i), 1e-5, "example " + i);
        }
    }

    @Test
    void aWeightedSumOfItHasTheGradientOfTheFormula() {
        double error = largestErrorAgainstFiniteDifferences(gradientOfWeightedSum(
                (sd, yz) -> PerExampleCrossEntropy.of(sd, yz[0], yz[1])));
        assertTrue(error < 1e-4, "largest difference from finite differences: " + error);
    }

    @Test
    void m21sOwnOpWithReductionNoneStillGetsThatGradientWrong() {
        // the symptom: when this fails, M2.1's op honours the incoming gradient and the repair can go
        double error = largestErrorAgainstFiniteDifferences(gradientOfWeightedSum(
                (sd, yz) -> sd.loss.softmaxCrossEntropy(null, yz[0], yz[1], null, LossReduce.NONE, 0.0)));
        assertTrue(error > 0.1, "M2.1's gradient now matches finite differences: largest difference " + error);
    }
}
