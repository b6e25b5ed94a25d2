package dev.bertclf.nd4jfix.repair;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.evaluation.IEvaluation;
import org.nd4j.evaluation.IMetric;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.util.List;

/**
 * Makes SameDiff's {@code fit} compute the loss it reports: the loss gets a consumer, {@code loss * 0}, on which an
 * evaluation that records nothing (this class) is registered for training.
 *
 * <p><b>Symptom:</b> listeners and the training history report a loss of 0.0 at every step.
 * <p><b>Cause:</b> M2.1's {@code fit} never runs the forward loss op (softmax cross-entropy's backprop does not
 * need it). Requesting it as a training evaluation is not enough on its own: with the array cache off
 * ({@link ArrayCacheOff}) a loss array nobody consumes is closed before {@code TrainingSession} reads it ("You
 * can't use DataBuffer once it was released"), hence the extra consumer.
 * <p><b>Guarded by:</b> {@code RealBertFineTuneTest} (the real loss is above 0 and falls).
 * <p><b>Remove when:</b> a newer ND4J's {@code fit} reports the loss without it.
 */
public final class LossKeeper implements IEvaluation<LossKeeper> {
    /** Adds the loss's consumer {@code name = loss * 0} to the graph. */
    public static SDVariable attach(SDVariable loss, String name) {
        return loss.mul(name, 0.0);
    }

    /** Registers the consumer {@code name} (made by {@link #attach}) as a training evaluation. */
    public static TrainingConfig.Builder keep(TrainingConfig.Builder config, String name) {
        return config.trainEvaluation(name, 0, new LossKeeper());
    }

    @Override
    public void eval(INDArray labels, INDArray networkPredictions) {
    }

    @Override
    public void eval(INDArray labels, INDArray networkPredictions, List<? extends Serializable> recordMetaData) {
    }

    @Override
    public void eval(INDArray labels, INDArray networkPredictions, INDArray maskArray,
                     List<? extends Serializable> recordMetaData) {
    }

    @Override
    public void eval(INDArray labels, INDArray networkPredictions, INDArray maskArray) {
    }

    @Override
    public void evalTimeSeries(INDArray labels, INDArray predicted) {
    }

    @Override
    public void evalTimeSeries(INDArray labels, INDArray predicted, INDArray labelsMaskArray) {
    }

    @Override
    public void merge(LossKeeper other) {
    }

    @Override
    public void reset() {
    }

    @Override
    public String stats() {
        return "";
    }

    @Override
    public String toJson() {
        return "{}";
    }

    @Override
    public String toYaml() {
        return "";
    }

    @Override
    public double getValue(IMetric metric) {
        return 0;
    }

    @Override
    public LossKeeper newInstance() {
        return new LossKeeper();
    }
}
