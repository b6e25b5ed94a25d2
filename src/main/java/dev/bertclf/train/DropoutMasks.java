package dev.bertclf.train;

import dev.bertclf.model.GraphNames;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/**
 * Adds the {@link GraphNames#DROPOUT_MASK} feature {@code [batch, hidden]} to each training batch: inverted dropout
 * multipliers (0, or 1/(1-p)). Masks depend only on (seed, epoch, batch index), so a resumed run draws the same.
 * (M2.1's dropout ops have no gradient, so dropout is a multiplication by this fed mask.)
 */
public final class DropoutMasks implements MultiDataSetPreProcessor {
    private final double p;
    private final int hidden;
    private final long seed;
    private final int epoch;
    private int batch;

    public DropoutMasks(double p, int hidden, long seed, int epoch) {
        this.p = p;
        this.hidden = hidden;
        this.seed = seed;
        this.epoch = epoch;
    }

    @Override
    public void preProcess(MultiDataSet mds) {
        long rows = mds.getFeatures(0).size(0);
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + epoch * 10_007L + batch++);
        float keep = (float) (1.0 / (1.0 - p));
        float[] m = new float[(int) rows * hidden];
        for (int i = 0; i < m.length; i++) {
            m[i] = r.nextDouble() < p ? 0f : keep;
        }
        INDArray mask = Nd4j.create(m, new long[]{rows, hidden}, 'c');
        INDArray[] f = mds.getFeatures();
        INDArray[] withMask = java.util.Arrays.copyOf(f, f.length + 1);
        withMask[f.length] = mask;
        mds.setFeatures(withMask);
        INDArray[] masks = mds.getFeaturesMaskArrays();
        if (masks != null) {
            mds.setFeaturesMaskArrays(java.util.Arrays.copyOf(masks, masks.length + 1));
        }
    }
}
