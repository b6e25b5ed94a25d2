package dev.bertclf.bench;

import dev.bertclf.config.CpuInfo;
import dev.bertclf.io.ChildJvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Medians, percentiles and peak memory for the benchmark commands. */
public final class Stats {
    private Stats() {
    }

    public static double median(List<Double> xs) {
        return percentile(xs, 50);
    }

    /** Nearest-rank percentile. */
    public static double percentile(List<Double> xs, double p) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        if (a.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * a.length);
        return a[Math.max(0, Math.min(a.length - 1, rank - 1))];
    }

    /** Peak resident set size of this process so far (VmHWM), in GB; NaN where /proc is not available. */
    public static double peakRssGb() {
        return ChildJvm.peakRssGb(ProcessHandle.current().pid());
    }

    /** Resident set size of this process now (VmRSS), in GB; NaN where /proc is not available. */
    public static double rssGb() {
        return procKb("/proc/self/status", "VmRSS:") / 1024.0 / 1024.0;
    }

    /** A "Key: value kB" line of a /proc file, in kB; NaN when absent. */
    private static double procKb(String file, String key) {
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    public static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, "
                + String.format("%.0f", totalMemoryGb()) + " GB, " + System.getProperty("os.arch") + ", Java "
                + System.getProperty("java.version") + ", ND4J build "
                + System.getProperty("org.bytedeco.javacpp.platform.extension", "(plain)");
    }

    /** {@link #machine()} and the CPU's model, as each benchmark prints them first. */
    public static String machineAndCpu() {
        return machine() + ", CPU " + cpuModel();
    }

    /** The CPU's model name from /proc/cpuinfo. */
    public static String cpuModel() {
        return CpuInfo.value("model name");
    }

    private static double totalMemoryGb() {
        return procKb("/proc/meminfo", "MemTotal:") / 1024.0 / 1024.0;
    }
}
