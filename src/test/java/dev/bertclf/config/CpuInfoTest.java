package dev.bertclf.config;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a CPU offers oneDNN, from its flags and the environment's ISA cap, checked on CPUs described by hand. */
class CpuInfoTest {
    private static final Set<String> ZEN3 = Set.of("avx", "avx2", "fma");
    private static final Set<String> ZEN4 = Set.of("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16");
    private static final Set<String> SAPPHIRE_RAPIDS = Set.of("avx", "avx2", "avx512f", "avx512_vnni",
            "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8");
    private static final Set<String> ALDER_LAKE = Set.of("avx", "avx2", "avx_vnni");

    private static CpuInfo.Cpu capped(Set<String> flags, Map<String, String> environment) {
        return CpuInfo.Cpu.withCap("Some CPU", flags, environment);
    }

    @Test
    void withoutACapEachCpuOffersWhatItsFlagsSay() {
        assertEquals("AVX2", capped(ZEN3, Map.of()).vectorIsa());
        assertFalse(capped(ZEN3, Map.of()).hasBf16());
        assertFalse(capped(ZEN3, Map.of()).hasVnni());
        assertEquals("AVX-512", capped(ZEN4, Map.of()).vectorIsa());
        assertTrue(capped(ZEN4, Map.of()).hasBf16() && capped(ZEN4, Map.of()).hasVnni());
        assertEquals("AMX", capped(SAPPHIRE_RAPIDS, Map.of()).vectorIsa());
        assertTrue(capped(ALDER_LAKE, Map.of()).hasVnni(), "AVX-VNNI");
        assertNull(capped(ZEN4, Map.of()).capSource());
        assertEquals(CpuInfo.Isa.ALL, capped(ZEN4, Map.of()).cap());
    }

    @Test
    void anAvx2CapHidesAvx512Bf16VnniAndAmxAsOneDnnDoes() {
        for (Set<String> flags : Set.of(ZEN4, SAPPHIRE_RAPIDS)) {
            CpuInfo.Cpu cpu = capped(flags, Map.of(CpuInfo.DNNL_CAP, "avx2"));
            assertEquals("AVX2", cpu.vectorIsa());
            assertFalse(cpu.hasBf16(), "bf16 refused under the cap");
            assertFalse(cpu.hasVnni());
            assertEquals("DNNL_MAX_CPU_ISA=avx2", cpu.capSource());
            assertTrue(cpu.described().contains("capped by DNNL_MAX_CPU_ISA=avx2"), cpu.described());
            assertTrue(cpu.whyNoBf16().contains("capped off by DNNL_MAX_CPU_ISA=avx2"), cpu.whyNoBf16());
            String refusal = Settings.bf16Unavailable("inference.precision", cpu);
            assertTrue(refusal != null && refusal.contains("capped by DNNL_MAX_CPU_ISA=avx2"), refusal);
        }
    }

    @Test
    void aCapAtAnInstructionSetTheCpuHasKeepsItAndOnlyNarrowerSetsMatter() {
        CpuInfo.Cpu bf16Cap = capped(SAPPHIRE_RAPIDS, Map.of(CpuInfo.ONEDNN_CAP, "AVX512_CORE_BF16"));
        assertTrue(bf16Cap.hasBf16(), "AVX512-BF16 still allowed");
        assertEquals("AVX-512", bf16Cap.vectorIsa(), "AMX capped off");
        CpuInfo.Cpu coreCap = capped(ZEN4, Map.of(CpuInfo.ONEDNN_CAP, "AVX512_CORE"));
        assertFalse(coreCap.hasBf16());
        assertFalse(coreCap.hasVnni());
        assertEquals("AVX-512", coreCap.vectorIsa());
        assertFalse(capped(ALDER_LAKE, Map.of(CpuInfo.DNNL_CAP, "AVX2")).hasVnni(), "AVX2_VNNI is above AVX2");
        assertTrue(capped(ALDER_LAKE, Map.of(CpuInfo.DNNL_CAP, "AVX2_VNNI")).hasVnni());
    }

    @Test
    void theNarrowerOfTheTwoVariablesWinsAndValuesOneDnnDoesNotKnowCapNothing() {
        CpuInfo.Cpu both = capped(ZEN4, Map.of(CpuInfo.ONEDNN_CAP, "AVX512_CORE", CpuInfo.DNNL_CAP, "AVX2"));
        assertEquals(CpuInfo.Isa.AVX2, both.cap());
        assertEquals("DNNL_MAX_CPU_ISA=AVX2", both.capSource());
        CpuInfo.Cpu equal = capped(ZEN4, Map.of(CpuInfo.ONEDNN_CAP, "AVX2", CpuInfo.DNNL_CAP, "AVX2"));
        assertEquals("DNNL_MAX_CPU_ISA=AVX2", equal.capSource(), "the variable both copies of oneDNN read");
        CpuInfo.Cpu unknown = capped(ZEN4, Map.of(CpuInfo.DNNL_CAP, "AVX9000"));
        assertEquals(CpuInfo.Isa.ALL, unknown.cap());
        assertTrue(unknown.hasBf16());
    }

    @Test
    void oneDnnsIsaMasksNameTheirInstructionSets() {
        // dnnl_cpu_isa_t as dnnl_get_effective_cpu_isa returns it
        assertEquals(CpuInfo.Isa.AVX2, CpuInfo.Isa.ofMask(0x7));
        assertEquals(CpuInfo.Isa.AVX512_CORE_BF16, CpuInfo.Isa.ofMask(0xe7));
        assertNull(CpuInfo.Isa.ofMask(0x12345));
    }
}
