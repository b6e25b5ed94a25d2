package dev.bertclf.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/** What this machine's CPU is and offers, from {@code /proc/cpuinfo} (Linux), as far as settings depend on it. */
public final class CpuInfo {
    /** The flags of CPUs with bf16 products: AVX-512's bf16 dot products, AMX's bf16 tiles. */
    static final Set<String> BF16_FLAGS = Set.of("avx512_bf16", "amx_bf16");

    private CpuInfo() {
    }

    /** A CPU as far as settings depend on it: its model name and {@code /proc/cpuinfo} flags. */
    public record Cpu(String model, Set<String> flags) {
        /** This machine's. */
        public static Cpu thisOne() {
            return new Cpu(value("model name"), CpuInfo.flags());
        }

        /** Whether it computes bf16 products in hardware (AVX512-BF16 or AMX). */
        public boolean hasBf16() {
            return CpuInfo.hasBf16(flags);
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
                .collect(Collectors.toUnmodifiableSet());
    }

    /** Whether this CPU computes bf16 products in hardware (AVX512-BF16 or AMX). */
    public static boolean hasBf16() {
        return hasBf16(flags());
    }

    /** Whether a CPU with {@code flags} computes bf16 products in hardware (AVX512-BF16 or AMX). */
    static boolean hasBf16(Set<String> flags) {
        return flags.stream().anyMatch(BF16_FLAGS::contains);
    }
}
