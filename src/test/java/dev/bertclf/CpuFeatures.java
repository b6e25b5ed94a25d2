package dev.bertclf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bertclf.config.CpuInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * This CPU in the tests. The only way a test is skipped for a CPU feature: an assumption that names the feature and
 * this CPU (with its ISA cap), read from {@link CpuInfo} as the product's own checks read it. Where the feature is
 * missing, the product's refusal is tested instead ({@code ConfigLoaderTest}).
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

    /**
     * Checks a recorded CPU report ({@code metrics.json}'s or {@code /model}'s {@code cpu}) against this machine, read
     * here from {@code /proc/cpuinfo} without {@link CpuInfo}: the model, the cores, the widest vector instructions
     * (no ISA cap in the tests' environment), and an instruction set that oneDNN named.
     */
    public static void assertDescribesThisCpu(JsonNode cpu) {
        assertNotNull(cpu, "a CPU report");
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        String model = lines.stream().filter(l -> l.startsWith("model name")).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElseThrow();
        List<String> flags = lines.stream().filter(l -> l.startsWith("flags")).findFirst()
                .map(l -> Arrays.asList(l.substring(l.indexOf(':') + 1).strip().split(" "))).orElseThrow();
        assertEquals(model, cpu.get("model").asText());
        assertEquals(Runtime.getRuntime().availableProcessors(), cpu.get("cores").asInt());
        String widest = flags.contains("amx_tile") ? "AMX" : flags.contains("avx512f") ? "AVX-512"
                : flags.contains("avx2") ? "AVX2" : "AVX";
        assertEquals(widest, cpu.get("vector_isa").asText());
        assertEquals(flags.contains("avx512_bf16") || flags.contains("amx_bf16"), cpu.get("bf16").asBoolean());
        assertTrue(cpu.get("onednn_isa").asText().matches("AVX2|AVX512_CORE.*|AVX2_VNNI"), cpu.toString());
        assertTrue(cpu.get("threads").asInt() >= 1, cpu.toString());
    }
}
