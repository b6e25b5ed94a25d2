package dev.bertclf.nd4jfix.repair;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Softmax cross-entropy of each example of a batch, for a loss that weighs examples (class weights).
 *
 * <p><b>Symptom:</b> a class-weighted loss built on {@code sd.loss.softmaxCrossEntropy(..., LossReduce.NONE, 0)}
 * has the right value but the wrong gradient: the logits' gradient comes out as softmax − one-hot for every
 * example, whatever its weight and the batch's sum of weights, so the weights change nothing in training.
 * <p><b>Cause:</b> M2.1's backward op for that loss with {@code LossReduce.NONE} ({@code softmax_cross_entropy_loss_bp})
 * does not multiply by the gradient flowing into the loss from the ops after it.
 * <p><b>Fix:</b> CE_i = max_i + log Σ_c exp(z_ic − max_i) − Σ_c y_ic·z_ic from plain ops, whose gradients M2.1 gets
 * right; shapes {@code [batch, 1]} throughout, as the weighting's ops expect. (Not {@code sd.math.logSumExp}: its
 * backward pass fails in M2.1, "reduce_sum_bp ... NDArray::reshapei: bad input shape".)
 * <p><b>Guarded by:</b> {@code PerExampleCrossEntropyTest} (each example's value against the formula worked out by
 * hand; a weighted sum's gradient against finite differences, and M2.1's own op still getting it wrong) and
 * {@code WeightedLossTest} (the class-weighted loss and its gradient).
 * <p><b>Remove when:</b> the gradient of {@code softmaxCrossEntropy} with {@code LossReduce.NONE} honours the
 * gradient flowing into it.
 */
public final class PerExampleCrossEntropy {
    private PerExampleCrossEntropy() {
    }

    /** {@code [batch, 1]}: each row's cross-entropy of {@code softmax(logits)} against its one-hot label. */
    public static SDVariable of(SameDiff sd, SDVariable oneHot, SDVariable logits) {
        SDVariable max = logits.max(true, 1);
        SDVariable logSumExp = sd.math.log(sd.math.exp(logits.sub(max)).sum(true, 1)).add(max);
        return logSumExp.sub(oneHot.mul(logits).sum(true, 1));
    }
}
