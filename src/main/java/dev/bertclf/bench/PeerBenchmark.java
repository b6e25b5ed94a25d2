package dev.bertclf.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.CpuInfo;
import dev.bertclf.io.ChildJvm;
import dev.bertclf.io.MallocSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The product against the PyTorch peer ({@code torch_bert_peer.py}: the same architecture and shapes, word
 * embeddings frozen) on the same machine, alternating A B A B so that both see the same machine state. Each side
 * runs in its own process, so each peak RSS is its own: the product as a child JVM with this JVM's options and
 * class path, the peer with Debian's {@code /usr/bin/python3}.
 */
public final class PeerBenchmark {
    private static final Pattern TRAIN = Pattern.compile(
            "Train (\\d+)x(\\d+), (\\d+) frozen layers, (\\w+) products: ([\\d.]+) s/step = ([\\d.]+) examples/s.*"
                    + "peak RSS so far ([\\d.]+) GB");
    private static final Pattern FORWARD = Pattern.compile(
            "Forward (\\d+)x(\\d+): SameDiff ([\\d.]+) s \\((\\w+) products\\), TensorFlow ([\\d.]+) s");
    private static final Pattern RSS = Pattern.compile("Peak RSS: ([\\d.]+) GB");
    /** One small product in the peer's PyTorch, enough for OpenBLAS to pick (and, verbose, print) its kernels. */
    private static final List<String> BLAS_PROBE = List.of("/usr/bin/python3", "-c",
            "import torch; torch.mm(torch.rand(9, 9), torch.rand(9, 9))");

    /** One figure of one side in one repetition. */
    record Figure(String what, String side, double value, double peakRssGb) {
    }

    private PeerBenchmark() {
    }

    /**
     * @param peer   path of torch_bert_peer.py
     * @param conf   the experiment whose settings the product uses
     * @param shapes training shapes, each {@code {batch, seqLen, frozenLayers}}
     */
    public static void run(Path peer, String conf, int repetitions, List<int[]> shapes, String testCsv)
            throws Exception {
        System.out.println("Machine: " + Stats.machineAndCpu());
        Map<String, String> peerEnvironment = peerEnvironment();
        Map<String, String> tfEnvironment = tfEnvironment();
        List<Figure> figures = new ArrayList<>();
        for (int rep = 1; rep <= repetitions; rep++) {
            for (int[] s : shapes) {
                String out = product(Map.of(), "BenchmarkTraining", testCsv, "--conf", conf, "--batch",
                        String.valueOf(s[0]), "--seq", String.valueOf(s[1]), "--frozen", String.valueOf(s[2]));
                Matcher m = TRAIN.matcher(out);
                if (!m.find()) {
                    throw new IllegalStateException("no training figure in the product's output:\n" + out);
                }
                String what = "train " + s[0] + "x" + s[1] + (s[2] > 0 ? ", " + s[2] + " frozen" : ", full")
                        + (m.group(4).equals("fp32") ? "" : ", " + m.group(4)) + " (examples/s)";
                figures.add(print(rep, new Figure(what, "product", Double.parseDouble(m.group(6)),
                        Double.parseDouble(m.group(7)))));
                JsonNode p = peer(peerEnvironment, peer, "--batch", String.valueOf(s[0]), "--seq",
                        String.valueOf(s[1]), "--frozen", String.valueOf(s[2]), "--steps", "5");
                figures.add(print(rep, new Figure(what, "peer", p.get("train_examples_per_s").asDouble(),
                        p.get("peak_rss_mb").asDouble() / 1024)));
            }
            String out = product(tfEnvironment, "BenchmarkForward", testCsv, "--conf", conf);
            Matcher m = FORWARD.matcher(out);
            Matcher rss = RSS.matcher(out);
            double productRss = rss.find() ? Double.parseDouble(rss.group(1)) : Double.NaN;
            while (m.find()) {
                String what = "forward " + m.group(1) + "x" + m.group(2)
                        + (m.group(4).equals("fp32") ? "" : ", " + m.group(4)) + " (s/batch)";
                figures.add(print(rep, new Figure(what, "product", Double.parseDouble(m.group(3)), productRss)));
                figures.add(print(rep, new Figure(what, "TF runtime", Double.parseDouble(m.group(5)), productRss)));
                JsonNode p = peer(peerEnvironment, peer, "--batch", m.group(1), "--seq", m.group(2), "--steps", "5");
                figures.add(print(rep, new Figure(what, "peer", p.get("infer_s_per_batch_median").asDouble(),
                        p.get("peak_rss_mb").asDouble() / 1024)));
            }
        }
        summary(figures);
    }

    private static Figure print(int rep, Figure f) {
        System.out.printf(Locale.ROOT, "rep %d  %-38s %-10s %8.3f   peak RSS %.2f GB%n", rep, f.what(), f.side(),
                f.value(), f.peakRssGb());
        return f;
    }

    /** Medians per figure and side, and the product's ratio to the peer and to TF. */
    private static void summary(List<Figure> figures) {
        Map<String, Map<String, List<Figure>>> by = figures.stream().collect(Collectors.groupingBy(Figure::what,
                LinkedHashMap::new, Collectors.groupingBy(Figure::side, LinkedHashMap::new, Collectors.toList())));
        System.out.println();
        System.out.println("| figure | side | median | peak RSS (GB) | product / side |");
        System.out.println("| --- | --- | ---: | ---: | ---: |");
        by.forEach((what, sides) -> {
            double product = median(sides.get("product"), Figure::value);
            sides.forEach((side, fs) -> {
                double v = median(fs, Figure::value);
                System.out.printf(Locale.ROOT, "| %s | %s | %.3f | %.2f | %s |%n", what, side, v,
                        median(fs, Figure::peakRssGb), side.equals("product") ? ""
                                : String.format(Locale.ROOT, "%.2f", product / v));
            });
        });
    }

    private static double median(List<Figure> fs, java.util.function.ToDoubleFunction<Figure> f) {
        return Stats.median(fs.stream().map(x -> f.applyAsDouble(x)).toList());
    }

    /**
     * Runs a product launcher in a child JVM with this JVM's options, its {@code bertclf.*} settings (such as
     * {@code -Dbertclf.train.precision=bf16}) and the project's class path, its environment with {@code environment}
     * added.
     */
    static String product(Map<String, String> environment, String mainClass, String testCsv, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ChildJvm.java());
        cmd.addAll(ChildJvm.inheritedOptions());
        cmd.addAll(ChildJvm.propertyOptions("bertclf."));
        cmd.add("-Dbertclf.data.test=" + testCsv);
        cmd.add("-cp");
        cmd.add(String.join(java.io.File.pathSeparator, ChildJvm.classPath()));
        cmd.add(mainClass);
        cmd.addAll(Arrays.asList(args));
        Map<String, String> all = new HashMap<>(MallocSettings.childEnvironment(System.getenv()));
        all.putAll(environment);
        return run(cmd, all);
    }

    /**
     * What the forward benchmark's JVM adds to its environment so that the TF runtime's MKL runs kernels this CPU
     * has ({@link TfMklKernels}). Prints the kernels the TF side runs on.
     */
    static Map<String, String> tfEnvironment() {
        String vendor = CpuInfo.value("vendor_id");
        Set<String> flags = CpuInfo.flags();
        Optional<String> type = TfMklKernels.override(vendor, flags, System.getenv());
        if (type.isEmpty()) {
            System.out.println(TfMklKernels.describe(vendor, flags, System.getenv()));
            return Map.of();
        }
        System.out.println("TF runtime's MKL kernels: its generic code path on this " + vendor + " CPU by its own"
                + " choice; the TF side runs with " + TfMklKernels.DEBUG_CPU_TYPE + "=" + type.get() + " (AVX2)");
        return Map.of(TfMklKernels.DEBUG_CPU_TYPE, type.get());
    }

    /**
     * The environment the peer runs with: where its OpenBLAS picks kernels narrower than this CPU's vectors, the
     * widest it has ({@link PeerBlasKernels}). Prints the kernels the peer's products run on.
     */
    static Map<String, String> peerEnvironment() throws IOException, InterruptedException {
        Optional<String> picked = PeerBlasKernels.picked(run(BLAS_PROBE, Map.of("OPENBLAS_VERBOSE", "2")));
        Optional<String> override = PeerBlasKernels.override(picked, CpuInfo.flags(), System.getenv());
        if (override.isEmpty()) {
            String set = System.getenv(PeerBlasKernels.CORETYPE);
            System.out.println("Peer's OpenBLAS kernels: " + picked.orElse("(not printed)")
                    + (set == null ? "" : " (" + PeerBlasKernels.CORETYPE + "=" + set + " in the environment)"));
            if (set != null && PeerBlasKernels.override(picked, CpuInfo.flags(), Map.of()).isPresent()) {
                System.out.println("WARNING: these kernels are narrower than this CPU's vectors, so the peer runs"
                        + " slower than it can; unset " + PeerBlasKernels.CORETYPE + " for figures at its full speed");
            }
            return Map.of();
        }
        Map<String, String> environment = Map.of(PeerBlasKernels.CORETYPE, override.get());
        Map<String, String> probe = new HashMap<>(environment);
        probe.put("OPENBLAS_VERBOSE", "2");
        System.out.println("Peer's OpenBLAS kernels: " + picked.get() + " by its own choice, narrower than this CPU's"
                + " vectors; the peer runs with " + PeerBlasKernels.CORETYPE + "=" + override.get() + " (kernels: "
                + PeerBlasKernels.picked(run(BLAS_PROBE, probe)).orElse("(not printed)") + ")");
        return environment;
    }

    static JsonNode peer(Map<String, String> environment, Path script, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        cmd.addAll(Arrays.asList(args));
        String out = run(cmd, environment).strip();
        return new ObjectMapper().readTree(out.substring(out.lastIndexOf('\n') + 1));
    }

    private static String run(List<String> cmd, Map<String, String> environment)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(environment);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("failed (exit " + p.exitValue() + "): " + String.join(" ", cmd) + "\n"
                    + out);
        }
        return out;
    }
}
