package dev.bertclf.nd4jfix;

import dev.bertclf.RealBert;
import dev.bertclf.model.JvmSetup;
import dev.bertclf.model.PretrainedBert;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;

/**
 * A JVM of its own for {@code EngineTest}: set up as every command is ({@link JvmSetup}, which reads
 * {@code -Dbertclf.engine.kernels}), it loads the real BERT-base, computes the pooled output of the test's reviews,
 * writes it as a .npy file and prints the executioner that ran it.
 */
public final class ReferenceKernelsProbe {
    private ReferenceKernelsProbe() {
    }

    public static void main(String[] args) throws Exception {
        JvmSetup.apply();
        PretrainedBert.Loaded bert = PretrainedBert.load(RealBert.descriptor(), RealBert.CACHE);
        INDArray pooled = EngineTest.pooled(bert);
        Nd4j.writeAsNumpy(pooled, new File(args[0]));
        System.out.println("kernels " + Engine.kernels());
        System.out.println("executioner " + Nd4j.getExecutioner().getClass().getName());
    }
}
