package dev.bertclf.train;

import dev.bertclf.RealBert;
import dev.bertclf.model.ClassifierHead;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.PretrainedBert;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdamW decays the weights Google BERT's optimizer decays, and only those. */
@Tag("slow")
class MatrixWeightDecayTest {
    /** BERT's rule, from its optimization.py: no decay for names containing these. */
    static final Pattern BERT_EXCLUDED = Pattern.compile(".*(LayerNorm|layer_norm|bias).*");

    @Test
    void decaysExactlyTheVariablesBertDecays() {
        ModelDescriptor d = RealBert.descriptor();
        SameDiff sd = PretrainedBert.load(d, RealBert.CACHE).sd();
        List<String> trainable = ClassifierHead.attach(sd, d, 2, 12, 0, 0, 1, null);
        MatrixWeightDecay decay = (MatrixWeightDecay) TrainingSetup.config(
                dev.bertclf.TestSettings.with("train.optimizer=adamw", "train.weight-decay=0.01").train(), 10, false)
                .getRegularization().get(0);
        int decayed = 0;
        for (String name : trainable) {
            INDArray param = sd.getVariable(name).getArr().dup();
            INDArray update = Nd4j.zerosLike(param);
            decay.apply(param, update, 1e-3, 0, 0);
            boolean changed = update.amaxNumber().doubleValue() > 0;
            assertEquals(!BERT_EXCLUDED.matcher(name).matches(), changed, name);
            decayed += changed ? 1 : 0;
        }
        System.out.printf("weight decay: %d of %d trainable variables (kernels and embeddings)%n", decayed,
                trainable.size());
        assertTrue(decayed > 70 && decayed < trainable.size(), decayed + " of " + trainable.size());
    }

    @Test
    void theDecayAddsNothingToTheReportedLoss() {
        // WeightDecay's own score is 0.5 * 0.01 * (1 + 4 + 9 + 16) = 0.15, computed as a norm of the whole matrix
        INDArray w = Nd4j.createFromArray(new float[][]{{1f, -2f}, {3f, 4f}});
        assertEquals(0.15, new org.nd4j.linalg.learning.regularization.WeightDecay(0.01, false).score(w, 0, 0), 1e-6);
        assertEquals(0, new MatrixWeightDecay(0.01).score(w, 0, 0));
    }

    @Test
    void theDecayIsLearningRateTimesCoefficientTimesTheWeight() {
        INDArray w = Nd4j.createFromArray(new float[][]{{1f, -2f}, {3f, 4f}});
        INDArray update = Nd4j.zerosLike(w);
        new MatrixWeightDecay(0.01).apply(w, update, 0.1, 0, 0);
        assertEquals(0.1 * 0.01 * -2, update.getDouble(0, 1), 1e-9);
        INDArray bias = Nd4j.createFromArray(1f, 2f);
        INDArray none = Nd4j.zerosLike(bias);
        new MatrixWeightDecay(0.01).apply(bias, none, 0.1, 0, 0);
        assertEquals(0, none.amaxNumber().doubleValue());
    }
}
