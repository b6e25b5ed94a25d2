package dev.bertclf.nd4jfix.repair;

import dev.bertclf.train.TrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing each step's gradients frees them and changes nothing that training computes. */
class OffHeapReleaseTest {
    /** A two-layer network on fixed random data, trained {@code steps} steps with the given listeners. */
    private static SameDiff trained(int steps, Listener... listeners) {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 4);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, 2);
        SDVariable w1 = sd.var("w1", Nd4j.rand(DataType.FLOAT, 4, 8).subi(0.5));
        SDVariable w2 = sd.var("w2", Nd4j.rand(DataType.FLOAT, 8, 2).subi(0.5));
        SDVariable logits = sd.math.tanh(x.mmul(w1)).mmul(w2);
        sd.loss.softmaxCrossEntropy("loss", y, logits, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(0.05)).dataSetFeatureMapping("x")
                .dataSetLabelMapping("y").build());
        INDArray features = Nd4j.rand(DataType.FLOAT, 16, 4);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 16, 2);
        for (int i = 0; i < 16; i++) {
            labels.putScalar(i, i % 2, 1.0);
        }
        for (int i = 0; i < steps; i++) {
            sd.fit(new MultiDataSet(features, labels), listeners);
        }
        return sd;
    }

    @Test
    void trainingWithTheGradientsClosedComputesWhatTrainingWithoutItComputes() {
        Nd4j.getRandom().setSeed(7);
        SameDiff plain = trained(5);
        Nd4j.getRandom().setSeed(7);
        SameDiff released = trained(5, new OffHeapRelease());
        for (String w : List.of("w1", "w2")) {
            assertEquals(plain.getArrForVarName(w), released.getArrForVarName(w), w + " after 5 steps");
        }
    }

    @Test
    void everyGradientHandedToTheUpdaterIsClosedWhenTheStepEnds() {
        List<INDArray> seen = new ArrayList<>();
        Listener spy = new TrainingListener() {
            @Override
            public void preUpdate(SameDiff sd, At at, Variable v, INDArray update) {
                seen.add(update);
            }
        };
        OffHeapRelease release = new OffHeapRelease();
        trained(2, spy, release);
        assertEquals(4, seen.size(), "two weights, two steps");
        assertTrue(seen.stream().allMatch(INDArray::wasClosed), "all gradients closed");
        assertEquals(0, release.pending());
    }
}
