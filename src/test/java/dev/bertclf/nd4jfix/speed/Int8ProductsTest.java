package dev.bertclf.nd4jfix.speed;

import dev.bertclf.config.CpuInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.context;
import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.random;
import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.shape;
import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.toObjects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inside {@link Int8Products#during}, a dense {@code matmul} (its second operand one of the weights) runs in int8 and
 * gives the float32 product of its dequantized inputs; the quantization itself keeps each value within half a step,
 * computed here from its definition; weights are quantized once; products without a weight and everything outside
 * {@link Int8Products#during} stay float32. Runs on every CPU oneDNN supports.
 */
class Int8ProductsTest {
    /** Float32 sums of 7 products of values in [-1, 1), scaled once: rounding is far below this. */
    private static final double TOLERANCE = 1e-5;
    /** 8-bit steps of about 2/255 and 1/127 move such a sum by about 1e-2; it moves by more than this. */
    private static final double QUANTIZED_AWAY = 1e-4;
    private static final long M = 5;
    private static final long K = 7;
    private static final long N = 6;

    private static OneDnnExecutioner executioner;

    @BeforeAll
    static void install() {
        OneDnnKernelsTest.install();
        executioner = (OneDnnExecutioner) OneDnnKernelsTest.executioner;
    }

    private static int[] flags(boolean tx, boolean ty) {
        return new int[] {tx ? 1 : 0, ty ? 1 : 0, 0};
    }

    /** {@code x}'s quantization from its definition: scale over levels − 1 steps, zero point, round half to even. */
    private static float[] quantizedByHand(float[] x, int levels) {
        float lo = 0, hi = 0;
        for (float v : x) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        float scale = (hi - lo) / (levels - 1);
        float zeroPoint = Math.round(-lo / scale);
        float[] q = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            q[i] = (float) Math.max(0, Math.min(255, Math.rint(x[i] / scale) + zeroPoint));
        }
        return q;
    }

    @Test
    void anActivationIsQuantizedAsItsDefinitionSaysWithinOneStepOfRounding() {
        for (int levels : new int[] {255, 127}) {
            INDArray x = random(M, K);
            float[] expected = quantizedByHand(x.dup().reshape(-1).toFloatVector(), levels);
            try (Int8Products.QuantizedActivation q = OneDnnInt8.quantize(x, levels)) {
                float[] got = q.values().castTo(DataType.FLOAT).reshape(-1).toFloatVector();
                for (int i = 0; i < got.length; i++) {
                    // oneDNN multiplies by 1 / scale where the definition divides: a tie may round the other way
                    assertTrue(Math.abs(got[i] - expected[i]) <= 1, "element " + i + ": " + got[i] + " vs "
                            + expected[i]);
                    assertTrue(got[i] >= 0 && got[i] <= levels, "within 0.." + levels + ": " + got[i]);
                }
                double error = q.dequantized().sub(x).amaxNumber().doubleValue();
                assertTrue(error <= q.scale() * 0.5001 + 1e-7, "levels " + levels + ": largest error " + error
                        + " for a step of " + q.scale());
            }
        }
    }

    @Test
    void aTransposedActivationIsQuantizedFromItsOwnLayout() {
        INDArray x = random(K, M).transpose();
        try (Int8Products.QuantizedActivation q = OneDnnInt8.quantize(x, 255)) {
            assertEquals(List.of(M, K), List.of(q.values().size(0), q.values().size(1)));
            assertTrue(q.dequantized().sub(x).amaxNumber().doubleValue() <= q.scale() * 0.5001 + 1e-7);
        }
    }

    @Test
    void aWeightIsQuantizedSymmetricPerOutputColumnWithinHalfAStep() {
        INDArray w = random(K, N);
        w.getColumn(2).assign(0); // a column of zeros keeps scale 1 and values 0
        Int8Products.QuantizedWeight q = Int8Products.quantizeWeight(w, false);
        float[] scales = q.scales().toFloatVector();
        for (int j = 0; j < N; j++) {
            INDArray column = w.getColumn(j);
            double absMax = column.amaxNumber().doubleValue();
            assertEquals(absMax > 0 ? absMax / 127 : 1, scales[j], 1e-7, "scale of column " + j);
            INDArray values = q.values().getColumn(j).castTo(DataType.FLOAT);
            if (absMax > 0) {
                assertEquals(127, values.amaxNumber().intValue(), "column " + j + " reaches 127");
            }
            double error = values.mul(scales[j]).sub(column).amaxNumber().doubleValue();
            assertTrue(error <= scales[j] * 0.5001, "column " + j + ": largest error " + error);
        }
        assertEquals(DataType.BYTE, q.values().dataType());
    }

    /**
     * Runs {@code matmul} in int8 with {@code w} as the only weight, and in libnd4j (float32) on the dequantized
     * inputs; they agree, oneDNN computed it in int8, and it is not libnd4j's product of the unquantized inputs.
     */
    private static void assertFloat32OfDequantizedInputs(INDArray x, boolean tx, INDArray w, boolean tw, INDArray z,
            double alpha, double beta, boolean reducedRange, String what) {
        assertFloat32OfDequantizedInputs(x, tx, w, tw, z, alpha, beta, reducedRange, true, what);
    }

    /** As above; {@code moves}: whether quantizing moves these inputs (not for values on the grid). */
    private static void assertFloat32OfDequantizedInputs(INDArray x, boolean tx, INDArray w, boolean tw, INDArray z,
            double alpha, double beta, boolean reducedRange, boolean moves, String what) {
        DynamicCustomOp op = DynamicCustomOp.builder("matmul").addIntegerArguments(flags(tx, tw))
                .addFloatingPointArguments(toObjects(new double[] {alpha, beta})).build();
        INDArray inInt8 = z.dup(), ofUnquantized = z.dup(), ofDequantized = z.dup();
        long before = Int8Products.computed();
        try (Int8Products.QuantizedWeights weights = Int8Products.QuantizedWeights.of(List.of(w), reducedRange);
                OpContext a = context(op, List.of(x, w), List.of(inInt8));
                OpContext c = context(op, List.of(x, w), List.of(ofUnquantized))) {
            Int8Products.during(weights, () -> executioner.exec(op, a));
            assertEquals(before + 1, Int8Products.computed(), what + ": oneDNN computed it in int8");
            Int8Products.QuantizedWeight qw = weights.copyOf(w, tw);
            INDArray wDequantized = qw.values().castTo(DataType.FLOAT).mulRowVector(qw.scales()); // [K, N]
            try (Int8Products.QuantizedActivation qx = OneDnnInt8.quantize(x, weights.levels())) {
                DynamicCustomOp plain = DynamicCustomOp.builder("matmul").addIntegerArguments(flags(tx, false))
                        .addFloatingPointArguments(toObjects(new double[] {alpha, beta})).build();
                try (OpContext b = context(plain, List.of(qx.dequantized(), wDequantized), List.of(ofDequantized))) {
                    executioner.execInLibnd4j(plain, b);
                }
            }
            executioner.execInLibnd4j(op, c);
        } catch (Exception e) {
            throw new AssertionError(what, e);
        }
        double diff = inInt8.sub(ofDequantized).amaxNumber().doubleValue();
        assertTrue(diff < TOLERANCE, what + ": largest difference from the dequantized product " + diff);
        double moved = inInt8.sub(ofUnquantized).amaxNumber().doubleValue();
        assertTrue(!moves || moved > QUANTIZED_AWAY, what + ": inputs not quantized (moved " + moved + ")");
    }

    @Test
    void everyTranspositionOfADenseProductIsFloat32OfTheDequantizedInputsWithAlphaAndBeta() {
        for (int f = 0; f < 4; f++) {
            boolean tx = (f & 1) != 0, tw = (f & 2) != 0;
            for (double[] ab : new double[][] {{1, 0}, {0.5, -2}}) {
                for (boolean reduced : CpuInfo.Cpu.thisOne().hasVnni() ? new boolean[] {false, true}
                        : new boolean[] {true}) { // 8 bits overflow without VNNI: see below
                    assertFloat32OfDequantizedInputs(random(shape(new long[0], M, K, tx)), tx,
                            random(shape(new long[0], K, N, tw)), tw, random(M, N), ab[0], ab[1], reduced,
                            "tx=" + tx + " tw=" + tw + " alpha, beta=" + ab[0] + ", " + ab[1] + " reduced range="
                                    + reduced);
                }
            }
        }
    }

    /**
     * The worst case for a CPU without VNNI: every activation at the top of its range times every weight at 127 of
     * the same sign. {@code vpmaddubsw} adds two u8·s8 products into a saturating 16-bit sum, which 8-bit activations
     * overflow ({@code 2 · 254 · 127 > 32767}) and 7-bit ones do not; the product must still equal the dequantized
     * one. The product's range is the one the classifier picks for this CPU ({@code IsaCapTest} runs this under an
     * AVX2 cap, where oneDNN sees no VNNI).
     */
    @Test
    void theRangeChosenForThisCpuKeepsTheWorstCaseProductExact() {
        boolean reduced = !CpuInfo.Cpu.thisOne().hasVnni();
        INDArray x = Nd4j.ones(DataType.FLOAT, 4, 64);
        INDArray w = Nd4j.ones(DataType.FLOAT, 64, 3);
        w.getColumn(1).negi();
        assertFloat32OfDequantizedInputs(x, false, w, false, Nd4j.zeros(DataType.FLOAT, 4, 3), 1, 0, reduced, false,
                "all activations at the top of the range, weights at ±127, reduced range=" + reduced);
    }

    @Test
    void aSingleRowTimesAWeightRunsInInt8() {
        assertFloat32OfDequantizedInputs(random(1, K), false, random(K, N), false, Nd4j.zeros(DataType.FLOAT, 1, N), 1,
                0, !CpuInfo.Cpu.thisOne().hasVnni(), "[1, K]·[K, N]");
    }

    @Test
    void aWeightIsQuantizedOnceForEveryProductThatTakesIt() {
        INDArray w = random(K, N);
        try (Int8Products.QuantizedWeights weights = Int8Products.QuantizedWeights.of(List.of(w), false)) {
            INDArray first = Int8Products.during(weights, () -> random(M, K).mmul(w));
            INDArray second = Int8Products.during(weights, () -> random(3, K).mmul(w));
            assertEquals(List.of(M, N, 3L, N), List.of(first.size(0), first.size(1), second.size(0), second.size(1)));
            assertEquals(1, weights.quantized());
            assertNull(weights.copyOf(w, true), "the other transposition is not kept");
        }
    }

    @Test
    void aProductWithoutAWeightStaysFloat32() {
        INDArray x = random(M, K), y = random(K, N);
        try (Int8Products.QuantizedWeights weights = Int8Products.QuantizedWeights.of(List.of(random(K, N)), false)) {
            long int8 = Int8Products.computed(), float32 = Int8Products.float32();
            INDArray z = Int8Products.during(weights, () -> x.mmul(y));
            assertEquals(int8, Int8Products.computed());
            assertEquals(float32 + 1, Int8Products.float32());
            assertTrue(z.equalsWithEps(OneDnnKernels.inLibnd4j(() -> x.mmul(y)), TOLERANCE));
        }
    }

    @Test
    void outsideDuringADenseProductStaysFloat32() {
        INDArray x = random(M, K), w = random(K, N);
        try (Int8Products.QuantizedWeights weights = Int8Products.QuantizedWeights.of(List.of(w), false)) {
            long before = Int8Products.computed();
            INDArray z = x.mmul(w);
            assertEquals(before, Int8Products.computed());
            assertEquals(0, weights.quantized());
            assertTrue(z.equalsWithEps(OneDnnKernels.inLibnd4j(() -> x.mmul(w)), TOLERANCE));
        }
    }
}
