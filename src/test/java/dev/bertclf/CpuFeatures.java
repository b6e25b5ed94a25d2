package dev.bertclf;

import dev.bertclf.config.CpuInfo;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The only way a test is skipped for a CPU feature: an assumption that names the feature and this CPU (with its ISA
 * cap), read from {@link CpuInfo} as the product's own checks read it. Where the feature is missing, the product's
 * refusal is tested instead ({@code ConfigLoaderTest}).
 */
public final class CpuFeatures {
    private CpuFeatures() {
    }

    /** Skips the calling test unless oneDNN computes bf16 products here (AVX512-BF16 or AMX, not capped off). */
    public static void assumeBf16() {
        CpuInfo.Cpu cpu = CpuInfo.Cpu.thisOne();
        assumeTrue(cpu.hasBf16(), () -> "needs bf16 products (CPU flag avx512_bf16 or amx_bf16): this CPU ("
                + cpu.described() + ") lacks them, as " + cpu.whyNoBf16());
    }
}
