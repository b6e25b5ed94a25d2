package dev.bertclf.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static dev.bertclf.bench.PeerBlasKernelsTest.AVX2_ONLY;
import static dev.bertclf.bench.PeerBlasKernelsTest.OLD;
import static dev.bertclf.bench.PeerBlasKernelsTest.XEON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TfMklKernelsTest {
    @Test
    void onAnAmdCpuWithAvx2TheTfSideRunsMklsAvx2Kernels() {
        // the AMD EPYC of family 26: TF's 8x128 forward pass 3.40-3.59 s on MKL's generic path, 1.19 s on AVX2
        assertEquals(Optional.of("5"), TfMklKernels.override("AuthenticAMD", XEON, Map.of()));
        assertEquals(Optional.of("5"), TfMklKernels.override("AuthenticAMD", AVX2_ONLY, Map.of()));
        assertEquals(Optional.of("5"), TfMklKernels.override("HygonGenuine", AVX2_ONLY, Map.of()));
    }

    @Test
    void onAnIntelCpuMklsOwnChoiceStands() {
        // there the setting would hold MKL to AVX2 on a CPU with AVX-512
        assertEquals(Optional.empty(), TfMklKernels.override("GenuineIntel", XEON, Map.of()));
        assertEquals(Optional.empty(), TfMklKernels.override("GenuineIntel", AVX2_ONLY, Map.of()));
    }

    @Test
    void aCpuWithoutAvx2KeepsMklsChoice() {
        assertEquals(Optional.empty(), TfMklKernels.override("AuthenticAMD", OLD, Map.of()));
    }

    @Test
    void aSettingInTheEnvironmentIsKept() {
        assertEquals(Optional.empty(), TfMklKernels.override("AuthenticAMD", XEON, Map.of("MKL_DEBUG_CPU_TYPE", "4")));
    }

    @Test
    void theForwardBenchmarkWarnsOnlyWhereTfRunsMklsGenericPathOnACpuWithAvx2() {
        String unset = TfMklKernels.describe("AuthenticAMD", XEON, Map.of());
        assertTrue(unset.contains("WARNING") && unset.contains("MKL_DEBUG_CPU_TYPE=5"), unset);
        String set = TfMklKernels.describe("AuthenticAMD", XEON, Map.of("MKL_DEBUG_CPU_TYPE", "5"));
        assertFalse(set.contains("WARNING"), set);
        assertTrue(set.contains("MKL_DEBUG_CPU_TYPE=5 in the environment"), set);
        assertFalse(TfMklKernels.describe("GenuineIntel", XEON, Map.of()).contains("WARNING"));
        assertFalse(TfMklKernels.describe("AuthenticAMD", OLD, Map.of()).contains("WARNING"));
    }
}
