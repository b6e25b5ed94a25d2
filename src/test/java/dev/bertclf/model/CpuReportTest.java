package dev.bertclf.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.CpuFeatures;
import dev.bertclf.config.CpuInfo;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU line describes this CPU, and the instruction set oneDNN dispatches to is the one oneDNN itself reports:
 * the CPU's widest, or the cap of the environment ({@code IsaCapTest} runs this test again under an AVX2 cap).
 */
class CpuReportTest {
    @Test
    void theReportNamesThisCpuAndTheInstructionSetOneDnnDispatchesTo() {
        CpuReport r = CpuReport.current();
        String cap = System.getenv(CpuInfo.DNNL_CAP);
        if (cap == null) {
            CpuFeatures.assertDescribesThisCpu(new ObjectMapper().valueToTree(r.toMap()));
            assertEquals("none", r.cap());
        } else {
            assertEquals(cap, r.onednnIsa(), "oneDNN dispatches to the cap");
            assertEquals(CpuInfo.DNNL_CAP + "=" + cap, r.cap());
            assertEquals("AVX2".equals(cap) ? "AVX2" : r.vectorIsa(), r.vectorIsa());
        }
        String line = r.line();
        for (String part : new String[] {r.model(), r.vectorIsa(), "bf16 " + (r.bf16() ? "yes" : "no"),
                r.cores() + " cores", r.threads() + " ND4J threads", "oneDNN dispatches " + r.onednnIsa(),
                "(cap: " + r.cap() + ")"}) {
            assertTrue(line.contains(part), line + " names " + part);
        }
    }
}
