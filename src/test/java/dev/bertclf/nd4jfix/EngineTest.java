package dev.bertclf.nd4jfix;

import dev.bertclf.RealBert;
import dev.bertclf.io.ChildJvm;
import dev.bertclf.model.GraphNames;
import dev.bertclf.model.PretrainedBert;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine facade's kernel switch: {@code engine.kernels = reference} (libnd4j's kernels alone, chosen in a JVM of
 * its own as a command chooses it) computes what the fast kernels compute on the real model, and a choice made after
 * a graph was loaded is refused.
 */
@Tag("slow")
class EngineTest {
    /** Pooled outputs in [-1, 1]: float32 sums in another order move them by about 1e-6. */
    private static final double POOLED_TOLERANCE = 1e-4;

    /** The pooled output of 4 real reviews at 64 word pieces. */
    static INDArray pooled(PretrainedBert.Loaded bert) throws Exception {
        return bert.sd().output(RealBert.reviewInputs(bert, 4, 64), GraphNames.POOLED).get(GraphNames.POOLED).dup();
    }

    @Test
    void theReferenceKernelsComputeWhatTheFastOnesComputeOnTheRealModel(@TempDir Path tmp) throws Exception {
        INDArray fast = pooled(RealBert.load());
        assertEquals(Engine.Kernels.FAST, Engine.kernels());
        File npy = tmp.resolve("pooled.npy").toFile();
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java()));
        cmd.addAll(ChildJvm.inheritedOptions());
        cmd.addAll(List.of("-Dbertclf.engine.kernels=reference", "-cp", System.getProperty("java.class.path"),
                ReferenceKernelsProbe.class.getName(), npy.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("kernels REFERENCE\n"), out);
        assertTrue(out.contains("executioner org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner\n"),
                "libnd4j's own executioner ran the pass: " + out);
        INDArray reference = Nd4j.createFromNpyFile(npy);
        assertArrayEquals(fast.shape(), reference.shape());
        double diff = fast.sub(reference).amaxNumber().doubleValue();
        System.out.printf("engine.kernels reference vs fast on BERT-base [4, 64]: max |pooled diff| %.3g%n", diff);
        assertTrue(diff <= POOLED_TOLERANCE, "the reference kernels differ by " + diff);
    }

    @Test
    void aKernelChoiceAfterAGraphWasLoadedIsRefusedAndTheSameChoiceIsNot() {
        RealBert.load();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Engine.useKernels(Engine.Kernels.REFERENCE));
        assertTrue(e.getMessage().contains("comes too late"), e.getMessage());
        Engine.useKernels(Engine.Kernels.FAST);
        assertEquals(Engine.Kernels.FAST, Engine.kernels());
    }
}
