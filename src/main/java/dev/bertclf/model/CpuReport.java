package dev.bertclf.model;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.config.CpuInfo;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one CPU line every command logs at its start, and that {@code /model} and a run's {@code metrics.json} record:
 * the CPU's model, the widest vector instructions oneDNN may use, bf16 and VNNI (without it int8 inference keeps
 * activations to 7 bits), the cores and the ND4J threads of a
 * pass, and the instruction set bytedeco's oneDNN actually dispatches to. The CPU facts come from {@link CpuInfo}, as
 * the settings' checks and the tests' assumptions read them.
 *
 * @param onednnIsa the instruction set oneDNN dispatches to ({@code AVX2}, {@code AVX512_CORE_BF16}), or "unknown"
 * @param cap       the environment's cap on oneDNN ({@code DNNL_MAX_CPU_ISA=AVX2}), or "none"
 */
public record CpuReport(String model, String vectorIsa, boolean bf16, boolean vnni, int cores, int threads,
                        String onednnIsa, String cap) {
    /** This process's: the CPU, its environment's cap, and ND4J's thread count as it stands now. */
    public static CpuReport current() {
        CpuInfo.Cpu cpu = CpuInfo.Cpu.thisOne();
        CpuInfo.Isa dispatched = CpuInfo.Isa.ofMask(Engine.dispatchedIsa());
        return new CpuReport(cpu.model(), cpu.vectorIsa(), cpu.hasBf16(), cpu.hasVnni(),
                Runtime.getRuntime().availableProcessors(), Nd4j.getEnvironment().maxMasterThreads(),
                dispatched == null ? "unknown" : dispatched.name(), cpu.capSource() == null ? "none" : cpu.capSource());
    }

    /** One line for a log. */
    public String line() {
        return "CPU " + model + ": " + vectorIsa + ", bf16 " + (bf16 ? "yes" : "no") + ", VNNI "
                + (vnni ? "yes" : "no (int8 activations 7-bit)")
                + ", " + cores + " cores, " + threads + " ND4J threads; oneDNN dispatches " + onednnIsa
                + " (cap: " + cap + ")";
    }

    /** The same, as JSON fields for {@code metrics.json} and {@code /model}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("vector_isa", vectorIsa);
        m.put("bf16", bf16);
        m.put("vnni", vnni);
        m.put("cores", cores);
        m.put("threads", threads);
        m.put("onednn_isa", onednnIsa);
        m.put("isa_cap", cap);
        return m;
    }
}
