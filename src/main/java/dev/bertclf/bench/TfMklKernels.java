package dev.bertclf.bench;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which code path the TF runtime's matrix products take, so that the forward benchmark compares the product with
 * TensorFlow at its real speed. The TF runtime here (bytedeco's TensorFlow 1.15 build) runs its products through
 * Intel MKL 2019 ({@code libmklml_intel.so}), which picks its kernels by CPU vendor: on a CPU that does not say
 * {@code GenuineIntel} it takes its generic code path whatever vectors the CPU has. On the AMD EPYC of family 26
 * (AVX-512) TF's 8x128 forward pass took 3.40-3.59 s that way, and 1.19 s with {@code MKL_DEBUG_CPU_TYPE=5}, with which
 * MKL runs its AVX2 kernels on any CPU: the figures against TF flattered the product about threefold there. Where
 * the CPU is not an Intel one and has AVX2 with FMA, the TF side runs with that setting; a setting already in the
 * environment is kept. On Intel CPUs MKL picks its widest kernels by itself, and the setting would hold it to AVX2.
 */
public final class TfMklKernels {
    /** The environment variable with which MKL 2019 takes the code path of another CPU type. */
    static final String DEBUG_CPU_TYPE = "MKL_DEBUG_CPU_TYPE";
    /** MKL's CPU type for AVX2 (with FMA). */
    static final String AVX2_TYPE = "5";
    /** The {@code /proc/cpuinfo} vendor of the CPUs whose kernels MKL picks by itself. */
    static final String INTEL = "GenuineIntel";

    private TfMklKernels() {
    }

    /**
     * The {@code MKL_DEBUG_CPU_TYPE} the TF side should run with, or empty where MKL's own choice stands.
     *
     * @param vendor      the CPU's {@code /proc/cpuinfo} {@code vendor_id} ({@code AuthenticAMD})
     * @param flags       the CPU's {@code /proc/cpuinfo} flags
     * @param environment the environment the TF side inherits
     */
    static Optional<String> override(String vendor, Set<String> flags, Map<String, String> environment) {
        if (environment.containsKey(DEBUG_CPU_TYPE) || INTEL.equals(vendor)
                || !flags.containsAll(PeerBlasKernels.AVX2)) {
            return Optional.empty();
        }
        return Optional.of(AVX2_TYPE);
    }

    /**
     * What the forward benchmark prints of the TF side's kernels in this environment: a line, and a warning where
     * MKL runs its generic code path though the CPU has AVX2 (the benchmark was started without the setting).
     */
    static String describe(String vendor, Set<String> flags, Map<String, String> environment) {
        String set = environment.get(DEBUG_CPU_TYPE);
        if (set != null) {
            return "TF runtime's MKL kernels: those of CPU type " + set + " (" + DEBUG_CPU_TYPE + "=" + set
                    + " in the environment)";
        }
        if (override(vendor, flags, environment).isEmpty()) {
            return "TF runtime's MKL kernels: its own choice for this " + vendor + " CPU";
        }
        return "TF runtime's MKL kernels: its generic code path on this " + vendor + " CPU\nWARNING: TensorFlow runs"
                + " slower than it can here; set " + DEBUG_CPU_TYPE + "=" + AVX2_TYPE + " for its AVX2 kernels (the"
                + " paired benchmark, BenchmarkTraining --peer, does so itself)";
    }
}
