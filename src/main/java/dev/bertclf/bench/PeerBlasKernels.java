package dev.bertclf.bench;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which OpenBLAS kernels the PyTorch peer's matrix products run on, so that the paired benchmark compares the
 * product with a peer at its real speed. Debian's OpenBLAS (0.3.21, which Debian's PyTorch uses) picks its kernels by
 * CPU model, and on CPUs newer than it knows it picks narrower ones than the CPU has: on an Intel Xeon of family 6,
 * model 207 its oldest x86-64 kernels ({@code Prescott}: SSE3, no AVX), which train several times slower. An
 * {@code OPENBLAS_CORETYPE} in the environment does the same: on an AMD EPYC of family 26 one naming the AVX2 kernels
 * ({@code Haswell}) held the peer well below its AVX-512 speed (figures: docs/measurements.md). Either would make the
 * product look faster than it is. Where the CPU has wider vectors than the
 * picked kernels use, the peer runs with {@code OPENBLAS_CORETYPE} naming the widest kernels it has:
 * {@code SkylakeX} for AVX-512, {@code Haswell} for AVX2 with FMA. A setting already in the environment is kept, and
 * the benchmark warns of it when it is narrower.
 */
public final class PeerBlasKernels {
    /** The environment variable with which OpenBLAS takes kernels other than the ones it picks. */
    static final String CORETYPE = "OPENBLAS_CORETYPE";
    /** OpenBLAS's kernels for AVX-512 (the names its {@code OPENBLAS_VERBOSE=2} prints). */
    static final Set<String> AVX512_KERNELS = Set.of("SkylakeX", "Cooperlake", "SapphireRapids");
    /** OpenBLAS's kernels for AVX2 with FMA. */
    static final Set<String> AVX2_KERNELS = Set.of("Haswell", "Zen", "Excavator");
    /** The {@code /proc/cpuinfo} flags of AVX-512 that OpenBLAS's SkylakeX kernels use. */
    static final Set<String> AVX512 = Set.of("avx512f", "avx512bw", "avx512dq", "avx512vl");
    /** The flags of AVX2 with FMA, which OpenBLAS's Haswell kernels use. */
    static final Set<String> AVX2 = Set.of("avx2", "fma");
    private static final Pattern CORE = Pattern.compile("(?m)^Core: (\\S+)");

    private PeerBlasKernels() {
    }

    /**
     * The kernels OpenBLAS says it runs, from what a process printed with {@code OPENBLAS_VERBOSE=2}
     * ({@code Core: Haswell}); empty where it printed none (an OpenBLAS built for one CPU only, or no OpenBLAS).
     */
    static Optional<String> picked(String verboseOutput) {
        Matcher m = CORE.matcher(verboseOutput);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * The {@code OPENBLAS_CORETYPE} the peer should run with, or empty where OpenBLAS's own choice stands.
     *
     * @param picked      the kernels OpenBLAS picked by itself ({@link #picked}); empty when unknown
     * @param flags       the CPU's {@code /proc/cpuinfo} flags
     * @param environment the environment the peer inherits
     */
    static Optional<String> override(Optional<String> picked, Set<String> flags, Map<String, String> environment) {
        if (environment.containsKey(CORETYPE) || picked.isEmpty() || AVX512_KERNELS.contains(picked.get())) {
            return Optional.empty();
        }
        if (flags.containsAll(AVX512) && flags.containsAll(AVX2)) {
            return Optional.of("SkylakeX");
        }
        return flags.containsAll(AVX2) && !AVX2_KERNELS.contains(picked.get()) ? Optional.of("Haswell")
                : Optional.empty();
    }
}
