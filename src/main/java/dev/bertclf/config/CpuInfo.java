package dev.bertclf.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What this machine's CPU is and offers, from {@code /proc/cpuinfo} (Linux), as far as settings depend on it, and the
 * cap that the environment puts on the instruction sets oneDNN may use. Tests that need a CPU feature assume it
 * through here, so a skipped test and the product's own refusal read the same facts.
 */
public final class CpuInfo {
    /** The flags of CPUs with bf16 products: AVX-512's bf16 dot products, AMX's bf16 tiles. */
    static final Set<String> BF16_FLAGS = Set.of("avx512_bf16", "amx_bf16");
    /**
     * The environment variables that cap oneDNN's instruction sets. libnd4j's own oneDNN (2.3) reads only
     * {@code DNNL_MAX_CPU_ISA}; bytedeco's (2.5) reads {@code ONEDNN_MAX_CPU_ISA}, else {@code DNNL_MAX_CPU_ISA}.
     */
    public static final String DNNL_CAP = "DNNL_MAX_CPU_ISA";
    public static final String ONEDNN_CAP = "ONEDNN_MAX_CPU_ISA";

    private CpuInfo() {
    }

    /**
     * oneDNN's names for its instruction-set caps and their bit masks ({@code dnnl_cpu_isa_t}): a cap allows an
     * instruction set when its mask holds every bit of that set's, as oneDNN decides it.
     */
    public enum Isa {
        SSE41(0x1), AVX(0x3), AVX2(0x7), AVX2_VNNI(0x407), AVX512_CORE(0x27), AVX512_CORE_VNNI(0x67),
        AVX512_CORE_BF16(0xe7), AVX512_CORE_AMX(0x3e7), ALL(0xffffffff);

        private final int mask;

        Isa(int mask) {
            this.mask = mask;
        }

        /** Whether a cap at this instruction set lets oneDNN use {@code isa}. */
        public boolean allows(Isa isa) {
            return (mask & isa.mask) == isa.mask;
        }

        /** The instruction set of oneDNN's {@code dnnl_cpu_isa_t} value, or null for one not named here. */
        public static Isa ofMask(int mask) {
            return Arrays.stream(values()).filter(i -> i.mask == mask).findFirst().orElse(null);
        }

        /** A cap's value as oneDNN reads it (case-insensitive), or null for a value oneDNN does not know. */
        static Isa parse(String value) {
            return Arrays.stream(values()).filter(i -> i.name().equalsIgnoreCase(value.strip())).findFirst()
                    .orElse(null);
        }
    }

    /**
     * A CPU as far as settings depend on it: its model name, {@code /proc/cpuinfo} flags, and the cap on oneDNN's
     * instruction sets that its environment sets ({@link Isa#ALL} where none).
     *
     * @param capSource the variable that set the cap ({@code DNNL_MAX_CPU_ISA=AVX2}), or null where none did
     */
    public record Cpu(String model, Set<String> flags, Isa cap, String capSource) {
        /** A CPU whose oneDNN runs uncapped. */
        public Cpu(String model, Set<String> flags) {
            this(model, flags, Isa.ALL, null);
        }

        /** This machine's, with the cap of this process's environment. */
        public static Cpu thisOne() {
            return withCap(value("model name"), CpuInfo.flags(), System.getenv());
        }

        /**
         * A CPU under the cap that {@code environment} sets: the narrower of {@code DNNL_MAX_CPU_ISA} (both copies of
         * oneDNN read it) and {@code ONEDNN_MAX_CPU_ISA} (bytedeco's only). A value oneDNN does not know caps nothing.
         */
        public static Cpu withCap(String model, Set<String> flags, Map<String, String> environment) {
            Isa cap = Isa.ALL;
            String source = null;
            for (String variable : new String[] {DNNL_CAP, ONEDNN_CAP}) {
                String value = environment.get(variable);
                Isa isa = value == null ? null : Isa.parse(value);
                if (isa != null && isa != cap && cap.allows(isa)) {
                    cap = isa;
                    source = variable + "=" + value.strip();
                }
            }
            return new Cpu(model, flags, cap, source);
        }

        /** Whether oneDNN computes bf16 products here: AVX512-BF16 or AMX in the CPU, and allowed by the cap. */
        public boolean hasBf16() {
            return flags.contains("avx512_bf16") && cap.allows(Isa.AVX512_CORE_BF16)
                    || flags.contains("amx_bf16") && cap.allows(Isa.AVX512_CORE_AMX);
        }

        /** Whether oneDNN may use VNNI's int8 dot products here (AVX512-VNNI or AVX-VNNI, allowed by the cap). */
        public boolean hasVnni() {
            return flags.contains("avx512_vnni") && cap.allows(Isa.AVX512_CORE_VNNI)
                    || flags.contains("avx_vnni") && cap.allows(Isa.AVX2_VNNI);
        }

        /** The widest vector instructions oneDNN may use here: "AMX", "AVX-512", "AVX2", "AVX" or "SSE4.1". */
        public String vectorIsa() {
            if (flags.contains("amx_tile") && cap.allows(Isa.AVX512_CORE_AMX)) {
                return "AMX";
            }
            if (flags.contains("avx512f") && cap.allows(Isa.AVX512_CORE)) {
                return "AVX-512";
            }
            if (flags.contains("avx2") && cap.allows(Isa.AVX2)) {
                return "AVX2";
            }
            return flags.contains("avx") && cap.allows(Isa.AVX) ? "AVX" : "SSE4.1";
        }

        /** The CPU's model, and the cap where one is set: how a refusal names the CPU. */
        public String described() {
            return capSource == null ? model : model + ", capped by " + capSource;
        }

        /** Why this CPU lacks bf16 products: the flags it lacks, or the cap that hides them. */
        public String whyNoBf16() {
            return BF16_FLAGS.stream().anyMatch(flags::contains) ? "its bf16 products are capped off by " + capSource
                    : "it has neither " + String.join(" nor ", BF16_FLAGS.stream().sorted().toList());
        }
    }

    /** The first CPU's value of a {@code /proc/cpuinfo} key ("model name", "flags"), or "unknown". */
    public static String value(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith(key)) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            return "unknown";
        }
        return "unknown";
    }

    /** The first CPU's flags ({@code avx512f}, {@code amx_tile}, ...); empty where {@code /proc/cpuinfo} has none. */
    public static Set<String> flags() {
        return Arrays.stream(value("flags").split("\\s+")).filter(f -> !f.isEmpty() && !f.equals("unknown"))
                .map(f -> f.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    /** Whether oneDNN computes bf16 products on this CPU under this process's cap (AVX512-BF16 or AMX). */
    public static boolean hasBf16() {
        return Cpu.thisOne().hasBf16();
    }
}
