package dev.bertclf.score;

import dev.bertclf.config.CpuInfo;
import dev.bertclf.config.Settings;
import org.junit.jupiter.api.Test;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.OptionalInt;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ExecutorModelsTest {
    private static final List<String> JVM = List.of("-Xmx3g", "-cp", "/opt/spark/jars/*");

    private static List<String> with(List<String> tail) {
        List<String> all = new java.util.ArrayList<>(JVM);
        all.addAll(tail);
        return all;
    }

    @Test
    void anExecutorTakesTheCoresItsClusterManagerStartedItWith() {
        // as a standalone worker starts it (the command line its stderr log shows)
        assertEquals(OptionalInt.of(1), ExecutorModels.launchCores(with(List.of(
                "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--driver-url",
                "spark://CoarseGrainedScheduler@127.0.0.1:37197", "--executor-id", "1", "--hostname", "127.0.0.1",
                "--cores", "1", "--app-id", "app-20261202140056-0000", "--worker-url", "spark://Worker@127.0.0.1:45355",
                "--resourceProfileId", "0"))));
        assertEquals(OptionalInt.of(4), ExecutorModels.launchCores(with(List.of(
                "org.apache.spark.executor.YarnCoarseGrainedExecutorBackend", "--executor-id", "3", "--cores", "4"))));
    }

    @Test
    void thePassThreadsProductsUseTheExecutorsCoresAndNoMore() throws Exception {
        Nd4j.getExecutioner(); // loads the backend
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        int machine = ops.ompGetMaxThreads();
        assumeTrue(machine > 1, "a 1-core machine cannot tell 1 thread from its own count");
        ExecutorService passes = ExecutorModels.passThread(1);
        try {
            assertEquals(1, passes.submit(ops::ompGetMaxThreads).get(),
                    "OpenMP's thread count on the pass thread (oneDNN's products take it)");
        } finally {
            passes.shutdownNow();
        }
        assertEquals(machine, ops.ompGetMaxThreads(), "the calling thread keeps its own count");
    }

    @Test
    void anExecutorWithoutBf16ProductsRefusesBf16PassesNamingItsHostAndCpu() {
        CpuInfo.Cpu avx512Only = new CpuInfo.Cpu("AMD EPYC 7B12", Set.of("avx2", "avx512f", "avx512bw"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ExecutorModels.checkCpu(
                Settings.Precision.BF16, avx512Only, "worker-3"));
        assertTrue(e.getMessage().contains("worker-3"), e.getMessage());
        assertTrue(e.getMessage().contains("AMD EPYC 7B12"), e.getMessage());
        assertTrue(e.getMessage().contains("bertclf.inference.precision"), e.getMessage());
        assertTrue(e.getMessage().contains("\"fp32\""), e.getMessage());
        assertDoesNotThrow(() -> ExecutorModels.checkCpu(Settings.Precision.FP32, avx512Only, "worker-3"),
                "float32 runs anywhere");
        assertDoesNotThrow(() -> ExecutorModels.checkCpu(Settings.Precision.BF16, new CpuInfo.Cpu("AMD EPYC 9B14",
                Set.of("avx512f", "avx512_bf16")), "worker-4"));
        assertDoesNotThrow(() -> ExecutorModels.checkCpu(Settings.Precision.BF16, new CpuInfo.Cpu(
                "Intel Xeon Platinum 8481C", Set.of("amx_tile", "amx_bf16")), "worker-5"));
    }

    @Test
    void aDriverOrAnArgumentThatIsNoCountGivesNothing() {
        assertEquals(OptionalInt.empty(), ExecutorModels.launchCores(with(List.of("Score", "--cores", "2"))),
                "a driver in local mode, whatever its own arguments");
        assertEquals(OptionalInt.empty(), ExecutorModels.launchCores(with(List.of(
                "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--executor-id", "1"))));
        assertEquals(OptionalInt.empty(), ExecutorModels.launchCores(with(List.of(
                "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--cores"))));
        assertEquals(OptionalInt.empty(), ExecutorModels.launchCores(with(List.of(
                "org.apache.spark.executor.CoarseGrainedExecutorBackend", "--cores", "all"))));
        assertEquals(OptionalInt.empty(), ExecutorModels.launchCores(List.of()));
    }
}
