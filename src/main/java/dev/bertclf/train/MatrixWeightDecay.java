package dev.bertclf.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * AdamW's decoupled weight decay as BERT applies it: to weight matrices only, never to biases or LayerNorm
 * parameters (Google BERT's {@code exclude_from_weight_decay = ["LayerNorm", "layer_norm", "bias"]}).
 *
 * <p>SameDiff 1.0.0-M2.1 applies a training config's regularization to every trainable variable and passes only
 * the array, not its name. In BERT and its head, the excluded variables are exactly the rank-1 ones (biases,
 * LayerNorm gamma and beta), and every rank-2 one is a kernel or an embedding table, so the rank decides.
 */
public final class MatrixWeightDecay extends WeightDecay {
    @JsonCreator
    public MatrixWeightDecay(@JsonProperty("coeff") ISchedule coeff, @JsonProperty("applyLR") boolean applyLR) {
        super(coeff, applyLR);
    }

    public MatrixWeightDecay(double coeff) {
        this(new FixedSchedule(coeff), true);
    }

    /** Whether a parameter of this shape decays: matrices yes, vectors (biases, LayerNorm) no. */
    public static boolean decays(INDArray param) {
        return param.rank() >= 2;
    }

    @Override
    public void apply(INDArray param, INDArray gradView, double lr, int iteration, int epoch) {
        if (decays(param)) {
            super.apply(param, gradView, lr, iteration, epoch);
        }
    }

    /**
     * Nothing: AdamW's decay is decoupled from the loss, and the product reports the classification loss alone
     * ({@code Trainer} reads the loss variable by name). M2.1's training session asks for this term of every trained
     * variable at every step; {@link WeightDecay}'s answer is a norm of the whole matrix, computed every step for
     * BERT-base's 76 matrices (docs/performance.md), only to be thrown
     * away.
     */
    @Override
    public double score(INDArray param, int iteration, int epoch) {
        return 0;
    }

    @Override
    public Regularization clone() {
        return new MatrixWeightDecay(coeff.clone(), applyLR);
    }
}
