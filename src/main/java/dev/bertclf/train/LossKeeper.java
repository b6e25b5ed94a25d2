package dev.bertclf.train;

import org.nd4j.evaluation.IEvaluation;
import org.nd4j.evaluation.IMetric;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.util.List;

/**
 * An evaluation that records nothing. Registered as a training evaluation on {@code loss * 0} it makes SameDiff's
 * fit compute the loss op, which M2.1 otherwise never runs (its listeners then report a loss of 0).
 */
public final class LossKeeper implements IEvaluation<LossKeeper> {
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
