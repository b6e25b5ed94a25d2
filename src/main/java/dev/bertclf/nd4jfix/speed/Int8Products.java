package dev.bertclf.nd4jfix.speed;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Dense layers' matrix products in int8 for inference ({@code inference.precision = int8}): inside {@link #during},
 * every float32 rank-2 {@code matmul} the calling thread runs whose second operand is one of the weights it was given
 * (the caller chooses which: BERT's encoder products, the pooler and the head, {@code [rows, in]·[in, out]}) runs on
 * oneDNN's int8 {@code matmul}: u8 activations times s8 weights, summed exactly in int32, scaled back to float32 by
 * each column's scale in the primitive and by each row's scale after it. Weights are quantized once per
 * {@link QuantizedWeights}, symmetric per output column ({@code scale = max|w| / 127}); activations per product, per
 * row (one text's word piece), symmetric around a zero point of 128. Per row, a text's values do not depend on the
 * texts batched with it, and a row of large values (the GELU's long tail) costs the other rows no precision. Products
 * with no such weight (the attention's batched products, any the caller left out) stay float32, as does every other
 * op.
 *
 * <p>With {@link QuantizedWeights#reducedRange} activations use 7 bits ({@code 1..127} around 64): a CPU without
 * VNNI multiplies u8 by s8 with {@code vpmaddubsw}, which adds two products into a saturating 16-bit sum
 * ({@code 2 · 255 · 127 > 32767}); with 7 bits the pair stays below it (ONNX Runtime's {@code reduce_range}).
 *
 * <p><b>Symptom:</b> libnd4j has no int8 products for a float32 graph: an int8 array in the graph would make its
 * products' outputs int8 too, and its integer {@code matmul} is a per-element loop.
 * <p><b>Cause:</b> libnd4j's {@code matmul} keeps one data type for inputs and output and sends only float types to
 * oneDNN; SameDiff has no quantization.
 * <p><b>Guarded by:</b> {@code Int8ProductsTest} (each product equals the float32 product of its dequantized inputs
 * within float rounding, with and without transposition, alpha and beta; activations quantized within half a step;
 * weights quantized once; nothing changes outside {@link #during}; the reduced range keeps activations in 7 bits).
 * <p><b>Remove when:</b> SameDiff offers quantized inference, or libnd4j sends u8·s8 products to oneDNN.
 */
public final class Int8Products {
    private static final ThreadLocal<QuantizedWeights> SCOPE = new ThreadLocal<>();
    static final AtomicLong COMPUTED = new AtomicLong();
    static final AtomicLong FLOAT32 = new AtomicLong();

    private Int8Products() {
    }

    /**
     * Runs {@code work} with the calling thread's dense products in int8 from {@code weights}' quantized copies. Fails
     * where the products cannot run on oneDNN: ND4J's executioner is not libnd4j's CPU one, or oneDNN did not load.
     */
    public static <T> T during(QuantizedWeights weights, Supplier<T> work) {
        if (!OneDnnKernels.install()) {
            throw new IllegalStateException("int8 precision needs ND4J's CPU backend with oneDNN (this JVM has "
                    + Nd4j.getBackend().getClass().getSimpleName() + "); use fp32");
        }
        QuantizedWeights outer = SCOPE.get();
        SCOPE.set(weights);
        try {
            return work.get();
        } finally {
            SCOPE.set(outer);
        }
    }

    /** The calling thread's weights inside {@link #during}, else null. */
    static QuantizedWeights scope() {
        return SCOPE.get();
    }

    /** Products oneDNN computed in int8 in this JVM so far. */
    public static long computed() {
        return COMPUTED.get();
    }

    /**
     * Products inside {@link #during} that stayed float32: those with no weight operand (the attention's), and any
     * oneDNN refused.
     */
    public static long float32() {
        return FLOAT32.get();
    }

    /**
     * A weight {@code [in, out]} as s8 values (row-major) and one float32 scale per output column; {@code transposed}:
     * the graph's array is {@code [out, in]}.
     */
    record QuantizedWeight(INDArray values, INDArray scales, boolean transposed) {
        void close() {
            values.close();
            scales.close();
        }
    }

    /**
     * An activation {@code [M, K]} as u8 values (row-major), one float32 scale per row and the zero point they share.
     */
    record QuantizedActivation(INDArray values, INDArray rowScales, int zeroPoint) implements AutoCloseable {
        /** {@code x ≈ rowScales[i] · (values − zeroPoint)}, as float32. */
        INDArray dequantized() {
            return values.castTo(DataType.FLOAT).subi(zeroPoint).muliColumnVector(rowScales.reshape(-1, 1));
        }

        @Override
        public void close() {
            values.close();
            rowScales.close();
        }
    }

    /**
     * {@code w} ({@code [in, out]}, any layout) quantized symmetric per output column: {@code round(w / scale)} in
     * {@code -127..127} with {@code scale = max|w[:, j]| / 127} (1 for a column of zeros).
     */
    static QuantizedWeight quantizeWeight(INDArray w, boolean transposed) {
        INDArray absMax = Transforms.abs(w, true).max(0);
        float[] s = absMax.toFloatVector();
        absMax.close();
        for (int j = 0; j < s.length; j++) {
            s[j] = s[j] > 0 ? s[j] / 127f : 1f;
        }
        INDArray scales = Nd4j.createFromArray(s);
        INDArray scaled = w.divRowVector(scales);
        Transforms.round(scaled, false);
        INDArray values = scaled.castTo(DataType.BYTE).dup('c');
        scaled.close();
        return new QuantizedWeight(values, scales, transposed);
    }

    /**
     * The scale of each row of an activation {@code x} ({@code [M, K]}) from each row's largest magnitude
     * {@code absMax}: symmetric, {@code max|x[i, :]| / half} with {@code half = levels / 2} steps either side of
     * {@link #zeroPoint} (1 for a row of zeros). Zero is exact, so padding stays zero, and a row's values do not
     * depend on the rows batched with it.
     */
    static float[] rowScales(float[] absMax, int levels) {
        float half = levels / 2;
        float[] s = new float[absMax.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = absMax[i] > 0 ? absMax[i] / half : 1f;
        }
        return s;
    }

    /** The u8 value of zero: {@code levels / 2 + 1} (128 of 0..255, 64 of 0..127), so {@code ±half} both fit. */
    static int zeroPoint(int levels) {
        return levels / 2 + 1;
    }

    /**
     * The quantized copies of a graph's weights for inference: each made when a product first takes that weight, then
     * kept until {@link #close}. Valid while the weights do not change: a trained classifier's whole life.
     */
    public static final class QuantizedWeights implements AutoCloseable {
        /** Each float32 weight array of the graph (by identity) to its quantized copy, or to null until one is made. */
        private final Map<INDArray, QuantizedWeight> copies;
        private final boolean reducedRange;
        private long quantized;

        private QuantizedWeights(Map<INDArray, QuantizedWeight> copies, boolean reducedRange) {
            this.copies = copies;
            this.reducedRange = reducedRange;
        }

        /**
         * For the rank-2 float32 arrays of {@code sd}'s variables and constants whose names {@code quantized} accepts;
         * quantizes nothing yet. {@code reducedRange}: 7-bit activations, for CPUs without VNNI.
         */
        public static QuantizedWeights of(SameDiff sd, boolean reducedRange, Predicate<String> quantized) {
            Map<INDArray, QuantizedWeight> copies = new IdentityHashMap<>();
            for (SDVariable v : sd.variables()) {
                if ((v.getVariableType() == VariableType.VARIABLE || v.getVariableType() == VariableType.CONSTANT)
                        && v.dataType() == DataType.FLOAT && v.getArr() != null && v.getArr().rank() == 2
                        && quantized.test(v.name())) {
                    copies.put(v.getArr(), null);
                }
            }
            return new QuantizedWeights(copies, reducedRange);
        }

        /** For {@code weights} alone. */
        static QuantizedWeights of(List<INDArray> weights, boolean reducedRange) {
            Map<INDArray, QuantizedWeight> copies = new IdentityHashMap<>();
            weights.forEach(w -> copies.put(w, null));
            return new QuantizedWeights(copies, reducedRange);
        }

        /** Whether activations use 7 bits rather than 8. */
        public boolean reducedRange() {
            return reducedRange;
        }

        /** The largest quantized activation value: 127 with the reduced range, else 255. */
        int levels() {
            return reducedRange ? 127 : 255;
        }

        /**
         * The quantized copy of {@code x}, taken as {@code [in, out]} ({@code transposed}: {@code x} is
         * {@code [out, in]}), where {@code x} is one of these weights (made now if none is yet), else null; null too
         * where the graph takes it with the other transposition as well (a second copy is not kept).
         */
        synchronized QuantizedWeight copyOf(INDArray x, boolean transposed) {
            if (!copies.containsKey(x)) {
                return null;
            }
            QuantizedWeight copy = copies.get(x);
            if (copy == null) {
                copy = quantizeWeight(transposed ? x.transpose() : x, transposed);
                copies.put(x, copy);
                quantized++;
            }
            return copy.transposed() == transposed ? copy : null;
        }

        /** How many weights have been quantized (each once). */
        public synchronized long quantized() {
            return quantized;
        }

        /** Frees the copies; later products find no quantized weights and stay float32. */
        @Override
        public synchronized void close() {
            copies.values().stream().filter(c -> c != null).forEach(QuantizedWeight::close);
            copies.clear();
        }
    }
}
