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
 * The multi-label loss against PyTorch's {@code BCEWithLogitsLoss(pos_weight=p)} written out by hand in doubles,
 * −mean over (i, j) of p_j·y_ij·log σ(z_ij) + (1 − y_ij)·log(1 − σ(z_ij)), large logits included; its gradient
 * against finite differences of that formula.
 */
class MultiLabelLossTest {
    static final double[][] LOGITS = {{2.0, -1.0, 0.5}, {0.1, 40.0, -0.3}, {-35.0, 1.0, 2.5}};
    static final double[][] TARGETS = {{1, 0, 1}, {0, 1, 0}, {1, 0, 0}};
    static final float[] POSITIVE_WEIGHTS = {2.0f, 0.5f, 3.0f};

    static double byHand(double[][] z, float[] p) {
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            for (int j = 0; j < z[i].length; j++) {
                double sigmoid = 1 / (1 + Math.exp(-z[i][j]));
                double logSig = Math.log(Math.max(sigmoid, Double.MIN_VALUE));
                // log(1 - sigmoid(z)) = log sigmoid(-z), exact for large z
                double logOneMinus = -z[i][j] + logSig;
                double pj = p == null ? 1 : p[j];
                sum += -(pj * TARGETS[i][j] * logSig + (1 - TARGETS[i][j]) * logOneMinus);
            }
        }
        return sum / (z.length * z[0].length);
    }

    static SameDiff graph(float[] p) {
        SameDiff sd = SameDiff.create();
        SDVariable z = sd.var("z", Nd4j.createFromArray(LOGITS).castTo(DataType.FLOAT));
        SDVariable y = sd.placeHolder(GraphNames.LABEL, DataType.FLOAT, -1, 3);
        ClassifierHead.multiLabelLoss(sd, y, z, p);
        sd.setLossVariables(GraphNames.LOSS);
        return sd;
    }

    static Map<String, INDArray> targets() {
        return Map.of(GraphNames.LABEL, Nd4j.createFromArray(TARGETS).castTo(DataType.FLOAT));
    }

    @Test
    void theFormulaByHandIsPyTorchs() {
        // torch.nn.BCEWithLogitsLoss()(z, y) and with pos_weight = [2.0, 0.5, 3.0], PyTorch 1.13, float64
        assertEquals(4.567241112121575, byHand(LOGITS, null), 1e-9);
        assertEquals(8.575583554277484, byHand(LOGITS, POSITIVE_WEIGHTS), 1e-9);
    }

    @Test
    void theLossIsTheMeanBinaryCrossEntropyWithPositiveWeights() {
        for (float[] p : new float[][]{null, POSITIVE_WEIGHTS}) {
            double loss = graph(p).output(targets(), GraphNames.LOSS).get(GraphNames.LOSS).getDouble(0);
            assertEquals(byHand(LOGITS, p), loss, 1e-5, p == null ? "unweighted" : "with positive weights");
        }
    }

    @Test
    void itsGradientMatchesFiniteDifferencesOfTheFormula() {
        INDArray grad = graph(POSITIVE_WEIGHTS).calculateGradients(targets(), "z").get("z");
        double h = 1e-5;
        for (int i = 0; i < LOGITS.length; i++) {
            for (int j = 0; j < 3; j++) {
                double[][] up = new double[3][];
                double[][] down = new double[3][];
                for (int k = 0; k < 3; k++) {
                    up[k] = LOGITS[k].clone();
                    down[k] = LOGITS[k].clone();
                }
                up[i][j] += h;
                down[i][j] -= h;
                double numeric = (byHand(up, POSITIVE_WEIGHTS) - byHand(down, POSITIVE_WEIGHTS)) / (2 * h);
                assertEquals(numeric, grad.getDouble(i, j), 1e-4, "d loss / d z[" + i + "][" + j + "]");
            }
        }
    }
}
