package dev.bertclf.nd4jfix;

import dev.bertclf.graph.GraphRewrite;
import dev.bertclf.nd4jfix.repair.ArrayCacheOff;
import dev.bertclf.nd4jfix.repair.FlatBufferSaveHeap;
import dev.bertclf.nd4jfix.repair.FrozenWordEmbeddings;
import dev.bertclf.nd4jfix.repair.GraphMemoryRelease;
import dev.bertclf.nd4jfix.repair.ImportGarbageCollection;
import dev.bertclf.nd4jfix.repair.LossKeeper;
import dev.bertclf.nd4jfix.repair.MatmulBetaZero;
import dev.bertclf.nd4jfix.repair.OffHeapRelease;
import dev.bertclf.nd4jfix.repair.OptimizerStateTransfer;
import dev.bertclf.nd4jfix.repair.PerExampleCrossEntropy;
import dev.bertclf.nd4jfix.repair.QuietStdout;
import dev.bertclf.nd4jfix.repair.SoftmaxLastAxis;
import dev.bertclf.nd4jfix.repair.StripIdentityAndAssert;
import dev.bertclf.nd4jfix.repair.TransposeToPermute;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.nd4jfix.speed.DecomposedLayerNormGradient;
import dev.bertclf.nd4jfix.speed.FusedGelu;
import dev.bertclf.nd4jfix.speed.InputGradientsOnly;
import dev.bertclf.nd4jfix.speed.Int8Products;
import dev.bertclf.nd4jfix.speed.LayerNormOps;
import dev.bertclf.nd4jfix.speed.LeanAddGradients;
import dev.bertclf.nd4jfix.speed.OneDnnKernels;
import dev.bertclf.nd4jfix.speed.OutputArrayReuse;
import dev.bertclf.nd4jfix.speed.ResidentMemoryCheckOff;
import dev.bertclf.nd4jfix.speed.ScalarConstantOps;
import dev.bertclf.nd4jfix.speed.SoftmaxGradientFromOutput;
import dev.bertclf.nd4jfix.speed.TanhThroughOneDnn;
import dev.bertclf.nd4jfix.speed.UnfilledBuffers;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.learning.GradientUpdater;
import org.tensorflow.framework.GraphDef;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one seam between the product and ND4J 1.0.0-M2.1: everything the rest of the code needs of the workarounds
 * goes through here, so whoever upgrades ND4J sees in one class what to retest (and in
 * {@code docs/engine-workarounds.md}, one row per class with its test).
 *
 * <p>Two kinds of class stand behind it. {@code nd4jfix.repair}: the product computes wrong numbers, or fails, without
 * them; they are always on. {@code nd4jfix.speed}: optional kernels and speed rewrites, same values faster. Of those,
 * the kernels chosen per JVM ({@link Kernels}: oneDNN's products, LayerNorm and GELU, output-array reuse, unfilled
 * buffers) can be turned off for diagnosis with {@code engine.kernels = reference}; the speed rewrites baked into the
 * model cache stay, as they are parity-tested graph changes, and their op classes are always registered, or saved
 * graphs would not load.
 */
public final class Engine {
    /**
     * The repairs and speed rewrites, in the order the importer applies them; the model cache key is made of their
     * simple class names and versions. In a class of their own: making them loads ND4J, which {@link #prepareJvm}
     * must come before.
     */
    private static final class Rewrites {
        static final List<GraphRewrite> ALL = List.of(new SoftmaxLastAxis(), new TransposeToPermute(),
                new MatmulBetaZero(), new ScalarConstantOps(), new LayerNormOps(), new DecomposedLayerNormGradient(),
                new FusedGelu(), new TanhThroughOneDnn(), new LeanAddGradients(), new SoftmaxGradientFromOutput());
    }

    /** The kernels a JVM runs: the optional fast ones, or libnd4j's alone (for diagnosis). */
    public enum Kernels { FAST, REFERENCE }

    private static Kernels kernels = Kernels.FAST;
    private static boolean loaded;

    private Engine() {
    }

    /** The JVM-wide settings every entry point applies before ND4J loads. */
    public static void prepareJvm() {
        ArrayCacheOff.apply();
        ResidentMemoryCheckOff.apply();
    }

    /**
     * Chooses the JVM's kernels; once a graph has been loaded the choice is made, and another is refused rather than
     * ignored.
     */
    public static synchronized void useKernels(Kernels chosen) {
        if (chosen == kernels) {
            return;
        }
        if (loaded) {
            throw new IllegalStateException("engine.kernels = " + chosen.name().toLowerCase() + " comes too late: this"
                    + " JVM loaded a graph with the " + kernels.name().toLowerCase() + " kernels");
        }
        OneDnnKernels.refuse(chosen == Kernels.REFERENCE);
        kernels = chosen;
    }

    /** The kernels this JVM runs. */
    public static synchronized Kernels kernels() {
        return kernels;
    }

    /** The rewrites, in the order the importer applies them. */
    public static List<GraphRewrite> rewrites() {
        return Rewrites.ALL;
    }

    /** A TF graph without what SameDiff cannot train through; nodes named in {@code keep} stay. */
    public static GraphDef trainable(GraphDef g, Set<String> keep) {
        return StripIdentityAndAssert.apply(g, keep);
    }

    /** Imports with the importer's console output dropped and its garbage collected as it goes. */
    public static SameDiff importing(Supplier<SameDiff> importer) {
        return ImportGarbageCollection.during(() -> QuietStdout.call(importer));
    }

    /** The JVM options of a child JVM that saves a large graph, from those it would inherit. */
    public static List<String> graphSavingJvmOptions(List<String> inherited) {
        return FlatBufferSaveHeap.jvmOptions(inherited);
    }

    /**
     * Before any graph file is read: every rewrite's op classes registered, and, with the fast kernels, the oneDNN
     * executioner, output-array reuse and unfilled buffers installed.
     */
    public static synchronized void beforeLoading() {
        Rewrites.ALL.forEach(GraphRewrite::registerForLoading);
        if (kernels == Kernels.FAST) {
            OutputArrayReuse.install();
            OneDnnKernels.install();
            UnfilledBuffers.install();
        }
        loaded = true;
    }

    /**
     * A graph just read: the fused GELU expanded back into ND4J's ops where oneDNN does not run it, and the attention's
     * products repaired in graphs saved before that repair existed.
     */
    public static void afterLoading(SameDiff sd) {
        FusedGelu.expandUnlessOneDnn(sd);
        new MatmulBetaZero().apply(sd);
    }

    /** Whether a pretrained variable may be trained (M2.1 cannot compute the word embeddings' gradient). */
    public static boolean mayTrain(String variable, String wordEmbeddings) {
        return FrozenWordEmbeddings.mayTrain(variable, wordEmbeddings);
    }

    /** Gives {@code loss} a consumer, so that {@code fit} computes and keeps it; see {@link #keepLoss}. */
    public static SDVariable keepLossOf(SDVariable loss, String consumer) {
        return LossKeeper.attach(loss, consumer);
    }

    /** Makes a training configuration evaluate the loss consumer, so listeners see the loss. */
    public static TrainingConfig.Builder keepLoss(TrainingConfig.Builder config, String consumer) {
        return LossKeeper.keep(config, consumer);
    }

    /** The gradient function, once per graph, without the console output M2.1 prints while making it. */
    public static void createGradients(SameDiff sd) {
        if (sd.getFunction("grad") == null) {
            QuietStdout.run(sd::createGradFunction);
        }
    }

    /**
     * The gradient function of a graph's loss with respect to {@code inputs} alone (placeholders or activations), for
     * a graph that has none yet, without M2.1's console output.
     */
    public static void createInputGradients(SameDiff sd, String... inputs) {
        if (sd.hasGradientFunction()) {
            throw new IllegalStateException("the graph has a gradient function already");
        }
        QuietStdout.run(() -> sd.createGradFunction(inputs));
    }

    /** The listeners every {@code fit} runs with, after the caller's own. */
    public static List<Listener> fitListeners() {
        return List.of(new OffHeapRelease());
    }

    /** After each inference batch outside {@code fit}: frees what the batch left. */
    public static void afterInferenceBatch() {
        OffHeapRelease.afterInferenceBatch();
    }

    /**
     * Frees a graph no one will use again (a model swapped out of a server): its sessions' pooled arrays, its
     * weights and constants. Returns the arrays closed.
     */
    public static int release(SameDiff sd) {
        return GraphMemoryRelease.release(sd);
    }

    /** Softmax cross-entropy of each example, {@code [batch, 1]}, for a loss that weighs examples. */
    public static SDVariable perExampleCrossEntropy(SameDiff sd, SDVariable oneHot, SDVariable logits) {
        return PerExampleCrossEntropy.of(sd, oneHot, logits);
    }

    /** Gives a freshly built graph the optimizer state of a checkpoint. */
    public static void restoreOptimizerState(SameDiff sd, Map<String, GradientUpdater> updaters) {
        OptimizerStateTransfer.install(sd, updaters);
    }

    /** Runs {@code work} with the calling thread's float32 products in bf16, rounding both inputs of each. */
    public static void inBf16(Runnable work) {
        Bf16Products.during(work);
    }

    /** The bf16 products computed in this JVM so far. */
    public static long bf16Products() {
        return Bf16Products.computed();
    }

    /** The int8 products computed in this JVM so far. */
    public static long int8Products() {
        return Int8Products.computed();
    }

    /** Products inside an int8 scope that stayed float32 (those with no weight operand: the attention's). */
    public static long int8Float32Products() {
        return Int8Products.float32();
    }

    /** The instruction set bytedeco's oneDNN dispatches to, as oneDNN's bit mask; -1 where it does not load. */
    public static int dispatchedIsa() {
        return OneDnnKernels.dispatchedIsa();
    }

    /**
     * A graph's weights prepared for inference products in a lower precision: their bf16 copies, or their int8
     * quantization; each made when a product first takes the weight, then kept while the weights stay as they are.
     * Closing frees them.
     */
    /**
     * A graph's weights, for backward passes that need the gradient of the graph's input alone (explanations): inside
     * {@link #run}, the dense layers' weight gradients are not computed.
     */
    public static final class InputGradients {
        private final InputGradientsOnly.Weights weights;

        private InputGradients(InputGradientsOnly.Weights weights) {
            this.weights = weights;
        }

        public static InputGradients of(SameDiff sd) {
            return new InputGradients(InputGradientsOnly.Weights.of(sd));
        }

        public <T> T run(Supplier<T> work) {
            return InputGradientsOnly.during(weights, work);
        }
    }

    /** Weight-gradient products left out so far by {@link InputGradients#run}. */
    public static long skippedWeightGradients() {
        return InputGradientsOnly.skipped();
    }

    public static final class InferenceWeights implements AutoCloseable {
        private final Bf16Products.RoundedWeights rounded;
        private final Int8Products.QuantizedWeights quantized;

        private InferenceWeights(Bf16Products.RoundedWeights rounded, Int8Products.QuantizedWeights quantized) {
            this.rounded = rounded;
            this.quantized = quantized;
        }

        /** For products of bf16-rounded inputs with float32 sums. */
        public static InferenceWeights bf16(SameDiff sd) {
            return new InferenceWeights(Bf16Products.RoundedWeights.of(sd), null);
        }

        /**
         * For dense products of u8 activations and s8 weights with int32 sums, of the weights whose variable names
         * {@code quantized} accepts; {@code reducedRange}: 7-bit activations, for CPUs without VNNI.
         */
        public static InferenceWeights int8(SameDiff sd, boolean reducedRange, Predicate<String> quantized) {
            return new InferenceWeights(null, Int8Products.QuantizedWeights.of(sd, reducedRange, quantized));
        }

        /** Runs {@code work} (inference of the graph these weights are of) with its products in this precision. */
        public <T> T run(Supplier<T> work) {
            return rounded != null ? Bf16Products.during(rounded, work) : Int8Products.during(quantized, work);
        }

        /** How many weights have been quantized to int8 (each once); 0 for bf16. */
        public long quantized() {
            return quantized == null ? 0 : quantized.quantized();
        }

        @Override
        public void close() {
            if (rounded != null) {
                rounded.close();
            } else {
                quantized.close();
            }
        }
    }
}
