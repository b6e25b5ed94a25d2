package dev.bertclf.bench;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.config.CpuInfo;
import dev.bertclf.config.Settings;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.model.GraphDefs;
import dev.bertclf.model.GraphNames;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.model.MavenArtifacts;
import dev.bertclf.model.PretrainedBert;
import dev.bertclf.model.TfReference;
import dev.bertclf.run.RunFolder;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Forward pass of BERT-base, SameDiff vs the TensorFlow 1.15 runtime on the same batches, in one run:
 * median of {@code runs} after warm-up at batch 8 × seq 128 and batch 1 × seq 64; plus first-import time
 * (into a fresh cache), cached-load time and peak RSS.
 *
 * <p>Both sides are timed in their steady state, as a server runs them: each first runs passes of a 1 × 16 batch
 * until their time is steady (the JVM compiles SameDiff's per-op scheduling code only after some tens of thousands
 * of op executions; until then a short text's pass takes several times as long) and prints what that cost, then
 * {@link #WARMUP} passes at each shape.
 */
public final class ForwardBenchmark {
    /** Fewest and most passes of the short batch before timing (BERT-base is steady after 40-70 on 2 cores). */
    static final int JIT_WARMUP = 50;
    static final int JIT_WARMUP_MAX = 200;
    static final int WARMUP = 2;
    static final int RUNS = 7;
    /** A profile runs passes for at least this long (after warm-up), and at least {@link #RUNS}. */
    static final long PROFILED_NANOS = 10_000_000_000L;

    private ForwardBenchmark() {
    }

    public static void run(Settings s, List<LabeledText> reviews) throws Exception {
        ModelDescriptor d = ModelDescriptor.load(s.model().descriptorFile());
        System.out.println("Machine: " + Stats.machineAndCpu());
        System.out.println(TfMklKernels.describe(CpuInfo.value("vendor_id"), CpuInfo.flags(), System.getenv()));
        Path fresh = Files.createTempDirectory("bertclf-bench-cache");
        double importSeconds;
        try {
            long t0 = System.nanoTime();
            PretrainedBert.load(d, fresh, MavenArtifacts.Repositories.of(s.model()));
            importSeconds = (System.nanoTime() - t0) / 1e9;
        } finally {
            AtomicFiles.deleteRecursively(fresh);
        }
        PretrainedBert.load(d, s.model().cacheDir(), MavenArtifacts.Repositories.of(s.model()));
        List<Double> loads = new ArrayList<>();
        PretrainedBert.Loaded bert = null;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            bert = PretrainedBert.load(d, s.model().cacheDir(), MavenArtifacts.Repositories.of(s.model()));
            loads.add((System.nanoTime() - t0) / 1e9);
        }
        System.out.printf("First import (unpack + freeze + validate + import + repair + save): %.1f s%n",
                importSeconds);
        System.out.printf("Cached load: median %.2f s of %d%n", Stats.median(loads), loads.size());
        List<String> texts = reviews.stream().map(LabeledText::text).toList();
        SameDiff sd = bert.sd();
        Engine.InferenceWeights weights = preparedWeights(s, sd);
        String products = Settings.nameOf(s.inference().precision());
        try (TfReference tf = new TfReference(GraphDefs.read(bert.frozenGraph()), d.tensors(), 0)) {
            Featurizer.Batch shortText = batch(bert, d, texts, 1, 16);
            warmUp("SameDiff", () -> samediff(sd, shortText, weights));
            warmUp("TensorFlow", () -> tf.run(shortText.inputIds(), shortText.inputMask(), shortText.segmentIds()));
            for (int[] shape : new int[][]{{8, 128}, {1, 64}}) {
                Featurizer.Batch b = batch(bert, d, texts, shape[0], shape[1]);
                List<Double> sdTimes = time(() -> samediff(sd, b, weights));
                List<Double> tfTimes = time(() -> tf.run(b.inputIds(), b.inputMask(), b.segmentIds()));
                double sdMed = Stats.median(sdTimes);
                double tfMed = Stats.median(tfTimes);
                System.out.printf("Forward %dx%d: SameDiff %.3f s (%s products), TensorFlow %.3f s (medians of %d"
                        + " after %d warm-up), SameDiff/TF %.2f%n", shape[0], shape[1], sdMed, products, tfMed, RUNS,
                        WARMUP, sdMed / tfMed);
            }
        }
        if (s.inference().precision() == Settings.Precision.INT8) {
            printInt8Counts(weights);
        }
        System.out.printf("Peak RSS: %.2f GB%n", Stats.peakRssGb());
    }

    /**
     * SameDiff's forward pass in each of {@code precisions}, paired: the model loaded once from the cache, each
     * precision's weights prepared and warmed up, then {@code repetitions} rounds in which every precision times
     * {@link #RUNS} passes (after {@link #WARMUP}) at 8x128 and at 1x64, one after the other. Prints every round's
     * medians, their ratio to the first precision's, and the medians over the rounds.
     */
    public static void comparePrecisions(Settings s, List<LabeledText> reviews, List<Settings.Precision> precisions,
            int repetitions) {
        ModelDescriptor d = ModelDescriptor.load(s.model().descriptorFile());
        System.out.println("Machine: " + Stats.machineAndCpu());
        PretrainedBert.Loaded bert = PretrainedBert.load(d, s.model().cacheDir(),
                MavenArtifacts.Repositories.of(s.model()));
        SameDiff sd = bert.sd();
        List<String> texts = reviews.stream().map(LabeledText::text).toList();
        Featurizer.Batch shortText = batch(bert, d, texts, 1, 16);
        Map<Settings.Precision, Engine.InferenceWeights> weights = new EnumMap<>(Settings.Precision.class);
        for (Settings.Precision p : precisions) {
            Engine.InferenceWeights w = Classifier.preparedWeights(sd, p);
            if (w != null) {
                weights.put(p, w);
            }
            warmUp(Settings.nameOf(p), () -> samediff(sd, shortText, w));
        }
        int[][] shapes = {{8, 128}, {1, 64}};
        Map<String, List<Double>> medians = new LinkedHashMap<>();
        for (int r = 1; r <= repetitions; r++) {
            for (int[] shape : shapes) {
                Featurizer.Batch b = batch(bert, d, texts, shape[0], shape[1]);
                double first = 0;
                StringBuilder line = new StringBuilder(String.format("Round %d, %dx%d:", r, shape[0], shape[1]));
                for (Settings.Precision p : precisions) {
                    Engine.InferenceWeights w = weights.get(p);
                    double median = Stats.median(time(() -> samediff(sd, b, w)));
                    first = first == 0 ? median : first;
                    medians.computeIfAbsent(shape[0] + "x" + shape[1] + " " + Settings.nameOf(p),
                            k -> new ArrayList<>()).add(median);
                    line.append(String.format(" %s %.3f s (%.2fx %s's throughput);", Settings.nameOf(p), median,
                            first / median, Settings.nameOf(precisions.get(0))));
                }
                System.out.println(line);
            }
        }
        medians.forEach((k, v) -> System.out.printf("Median of %d rounds, %s: %.3f s (%s)%n", v.size(), k,
                Stats.median(v), v));
        if (weights.containsKey(Settings.Precision.INT8)) {
            printInt8Counts(weights.get(Settings.Precision.INT8));
        }
        System.out.printf("Peak RSS: %.2f GB%n", Stats.peakRssGb());
        weights.values().forEach(Engine.InferenceWeights::close);
    }

    /** What ran in int8: that it did, and that nothing else fell back unnoticed. */
    private static void printInt8Counts(Engine.InferenceWeights weights) {
        System.out.printf("int8: %d products in int8, %d in float32 (the attention's), %d weights"
                + " quantized%n", Engine.int8Products(), Engine.int8Float32Products(), weights.quantized());
    }

    /**
     * How much each group of dense products loses in int8, on a trained classifier: its probabilities on
     * {@code reviews} (batches of 8 at the run's inference length) with only that group's weights quantized, and with
     * all but that group's, against float32's: the largest and mean difference and the labels that flip. The
     * groups are the weights' kinds by name (query, key, value, attention output, FFN in, FFN out, the rest).
     */
    public static void int8Sensitivity(RunFolder run, List<LabeledText> reviews) {
        Classifier fp32 = run.classifier(Settings.Precision.FP32);
        SameDiff sd = fp32.graph();
        System.out.println("Machine: " + Stats.machineAndCpu());
        List<Featurizer.Batch> batches = new ArrayList<>();
        for (int from = 0; from < reviews.size(); from += 8) {
            batches.add(fp32.featurizer().featurize(reviews.subList(from, Math.min(reviews.size(), from + 8)).stream()
                    .map(LabeledText::text).toList()));
        }
        List<float[][]> reference = batches.stream().map(b -> Classifier.probabilities(sd, b).toFloatMatrix()).toList();
        Map<String, Set<String>> groups = new LinkedHashMap<>();
        sd.variables().stream().filter(v -> v.getArr() != null && v.getArr().rank() == 2)
                .forEach(v -> groups.computeIfAbsent(int8Group(v.name()), k -> new TreeSet<>()).add(v.name()));
        groups.forEach((g, names) -> System.out.printf("%s: %d weights, e.g. %s%n", g, names.size(),
                names.iterator().next()));
        List<String> cases = new ArrayList<>(List.of("all"));
        groups.keySet().forEach(g -> cases.add("only " + g));
        groups.keySet().forEach(g -> cases.add("all but " + g));
        for (String c : cases) {
            Predicate<String> quantized = c.equals("all") ? n -> true : c.startsWith("only ")
                    ? n -> int8Group(n).equals(c.substring(5)) : n -> !int8Group(n).equals(c.substring(8));
            double largest = 0, sum = 0;
            int flipped = 0, n = 0, right = 0;
            try (Engine.InferenceWeights w = Classifier.int8Weights(sd, quantized)) {
                for (int k = 0; k < batches.size(); k++) {
                    Featurizer.Batch b = batches.get(k);
                    float[][] p = w.run(() -> Classifier.probabilities(sd, b)).toFloatMatrix();
                    for (int i = 0; i < p.length; i++) {
                        double d = Math.abs(p[i][0] - reference.get(k)[i][0]);
                        largest = Math.max(largest, d);
                        sum += d;
                        flipped += Classifier.argMax(p[i]) == Classifier.argMax(reference.get(k)[i]) ? 0 : 1;
                        right += fp32.labels().get(Classifier.argMax(p[i])).equals(reviews.get(8 * k + i).label())
                                ? 1 : 0;
                        n++;
                    }
                }
            }
            System.out.printf("int8 %-22s largest difference %.4f, mean %.5f, %d of %d flipped, %d right%n", c + ":",
                    largest, sum / n, flipped, n, right);
        }
    }

    /** The kind of dense product a weight of BERT's graph (by its TF name) feeds. */
    static String int8Group(String name) {
        for (String kind : List.of("query", "key", "value", "attention/output", "intermediate", "output/dense",
                "pooler")) {
            if (name.contains(kind)) {
                return kind;
            }
        }
        return "other";
    }

    /**
     * Where the time of a {@code size × seqLen} forward pass (pooled and sequence output, as {@link #run} times it)
     * goes, by op type and output shape, as Markdown: the model from the cache, warmed up as in {@link #run}, then
     * profiled passes after {@link #WARMUP}: at least {@link #RUNS}, and for at least 10 s.
     */
    public static String profile(Settings s, List<LabeledText> reviews, int size, int seqLen) {
        ModelDescriptor d = ModelDescriptor.load(s.model().descriptorFile());
        PretrainedBert.Loaded bert = PretrainedBert.load(d, s.model().cacheDir(),
                MavenArtifacts.Repositories.of(s.model()));
        SameDiff sd = bert.sd();
        Engine.InferenceWeights weights = preparedWeights(s, sd);
        List<String> texts = reviews.stream().map(LabeledText::text).toList();
        Featurizer.Batch shortText = batch(bert, d, texts, 1, 16);
        warmUp("SameDiff", () -> samediff(sd, shortText, weights));
        Featurizer.Batch b = batch(bert, d, texts, size, seqLen);
        StepProfile profile = StepProfile.ofForwardPasses(WARMUP);
        sd.setListeners(profile);
        try {
            long end = 0;
            for (int i = 0; i < WARMUP + RUNS || System.nanoTime() < end; i++) {
                samediff(sd, b, weights);
                if (i == WARMUP - 1) {
                    end = System.nanoTime() + PROFILED_NANOS;
                }
            }
        } finally {
            sd.setListeners();
        }
        return String.format("Profile of a %dx%d forward pass, %s products (%s, CPU %s)%n%n", size, seqLen,
                Settings.nameOf(s.inference().precision()), Stats.machine(), Stats.cpuModel()) + profile.markdown(20);
    }

    /** The first {@code size} texts as a batch of {@code seqLen} word pieces (truncated and padded to it). */
    private static Featurizer.Batch batch(PretrainedBert.Loaded bert, ModelDescriptor d, List<String> texts, int size,
                                          int seqLen) {
        return new Featurizer(bert.vocab(), d.normalization(),
                new FeatureSettings(seqLen, Truncation.HEAD, 0.25, Padding.FIXED, true))
                .featurize(texts.subList(0, size), true);
    }

    /** The weights prepared for {@code inference.precision}: bf16 copies, int8 quantization; null for fp32. */
    private static Engine.InferenceWeights preparedWeights(Settings s, SameDiff sd) {
        return Classifier.preparedWeights(sd, s.inference().precision());
    }

    /** The pooled and sequence output, in the precision of {@code weights}, or in fp32 where they are null. */
    private static Map<String, INDArray> samediff(SameDiff sd, Featurizer.Batch b, Engine.InferenceWeights weights) {
        Supplier<Map<String, INDArray>> pass = () -> sd.output(Map.of(GraphNames.INPUT_IDS, b.inputIds(),
                GraphNames.INPUT_MASK, b.inputMask(), GraphNames.SEGMENT_IDS, b.segmentIds()), GraphNames.POOLED,
                GraphNames.SEQUENCE);
        return weights == null ? pass.get() : weights.run(pass);
    }

    /**
     * Runs passes of a short text in rounds of 10 until steady (a round's median no more than 5% below the round
     * before's), at least {@link #JIT_WARMUP} and at most {@link #JIT_WARMUP_MAX} passes, and prints what they cost.
     */
    private static void warmUp(String side, Runnable pass) {
        List<Double> times = new ArrayList<>();
        double previous = Double.MAX_VALUE;
        while (times.size() < JIT_WARMUP_MAX) {
            List<Double> round = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                long t0 = System.nanoTime();
                pass.run();
                round.add((System.nanoTime() - t0) / 1e9);
            }
            times.addAll(round);
            double median = Stats.median(round);
            if (times.size() >= JIT_WARMUP && median > 0.95 * previous) {
                break;
            }
            previous = median;
        }
        System.out.printf("Warm-up (%s): %d passes of 1x16 in %.1f s; first %.0f ms, median of the last 10 %.0f ms%n",
                side, times.size(), times.stream().mapToDouble(Double::doubleValue).sum(), times.get(0) * 1e3,
                Stats.median(times.subList(times.size() - 10, times.size())) * 1e3);
    }

    private static List<Double> time(Runnable r) {
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < WARMUP + RUNS; i++) {
            long t0 = System.nanoTime();
            r.run();
            if (i >= WARMUP) {
                times.add((System.nanoTime() - t0) / 1e9);
            }
        }
        return times;
    }
}
