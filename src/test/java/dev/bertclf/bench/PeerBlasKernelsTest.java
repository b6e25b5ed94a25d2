package dev.bertclf.bench;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PeerBlasKernelsTest {
    /** Flags of a CPU with SSE3 only. */
    static final Set<String> OLD = Set.of("fpu", "sse", "sse2", "pni", "ssse3");
    /** Flags of a CPU with AVX2 and FMA but no AVX-512. */
    static final Set<String> AVX2_ONLY = union(OLD, Set.of("avx", "avx2", "fma"));
    /** Flags of the Intel Xeon (family 6, model 207) whose OpenBLAS fell back to Prescott: AVX-512 and AMX. */
    static final Set<String> XEON = union(AVX2_ONLY, Set.of("avx512f", "avx512bw", "avx512dq", "avx512vl",
            "avx512_bf16", "amx_tile", "amx_bf16"));

    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void theKernelsAreReadFromOpenBlasVerboseLineAmongOtherOutput() {
        assertEquals(Optional.of("Prescott"), PeerBlasKernels.picked("some warning\nCore: Prescott\n{\"x\": 1}\n"));
        assertEquals(Optional.of("Haswell"), PeerBlasKernels.picked("Core: Haswell"));
        assertEquals(Optional.empty(), PeerBlasKernels.picked("{\"train_examples_per_s\": 2.1}"));
        assertEquals(Optional.empty(), PeerBlasKernels.picked("Hardcore: Prescott"));
    }

    @Test
    void aFallbackToOldKernelsOnACpuWithAvx512RunsTheSkylakeXKernels() {
        assertEquals(Optional.of("SkylakeX"), PeerBlasKernels.override(Optional.of("Prescott"), XEON, Map.of()));
        assertEquals(Optional.of("SkylakeX"), PeerBlasKernels.override(Optional.of("Nehalem"), XEON, Map.of()));
    }

    @Test
    void aFallbackToOldKernelsOnACpuWithAvx2ButNoAvx512RunsTheHaswellKernels() {
        assertEquals(Optional.of("Haswell"), PeerBlasKernels.override(Optional.of("Prescott"), AVX2_ONLY, Map.of()));
    }

    @Test
    void avx2KernelsOnACpuWithAvx512AreReplacedByTheSkylakeXKernels() {
        // the AMD EPYC of family 26 held to Haswell: the peer trained 1.4x faster on SkylakeX (measured)
        assertEquals(Optional.of("SkylakeX"), PeerBlasKernels.override(Optional.of("Haswell"), XEON, Map.of()));
        assertEquals(Optional.of("SkylakeX"), PeerBlasKernels.override(Optional.of("Zen"), XEON, Map.of()));
    }

    @Test
    void kernelsAsWideAsTheCpusVectorsAreKept() {
        // the AMD EPYC of family 25: OpenBLAS picks Cooperlake (AVX-512 with bf16) by itself
        assertEquals(Optional.empty(), PeerBlasKernels.override(Optional.of("Cooperlake"), XEON, Map.of()));
        assertEquals(Optional.empty(), PeerBlasKernels.override(Optional.of("SkylakeX"), XEON, Map.of()));
        assertEquals(Optional.empty(), PeerBlasKernels.override(Optional.of("Haswell"), AVX2_ONLY, Map.of()));
        assertEquals(Optional.empty(), PeerBlasKernels.override(Optional.of("Zen"), AVX2_ONLY, Map.of()));
    }

    @Test
    void oldKernelsOnAnOldCpuAreKept() {
        assertEquals(Optional.empty(), PeerBlasKernels.override(Optional.of("Prescott"), OLD, Map.of()));
    }

    @Test
    void aSettingInTheEnvironmentOrUnknownKernelsAreLeftAlone() {
        assertEquals(Optional.empty(), PeerBlasKernels.override(Optional.of("Prescott"), XEON,
                Map.of("OPENBLAS_CORETYPE", "Prescott")));
        assertEquals(Optional.empty(), PeerBlasKernels.override(Optional.empty(), XEON, Map.of()));
    }
}
