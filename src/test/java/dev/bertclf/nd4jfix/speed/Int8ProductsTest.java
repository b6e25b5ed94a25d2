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

    /**
     * {@code x}'s ({@code [rows, cols]}, row-major values) quantization from its definition: per row, symmetric,
     * {@code levels / 2} steps either side of the zero point {@code levels / 2 + 1}, round half to even.
     */
    private static float[] quantizedByHand(float[] x, int rows, int levels) {
        int cols = x.length / rows, half = levels / 2;
        float[] q = new float[x.length];
        for (int r = 0; r < rows; r++) {
            float absMax = 0;
            for (int k = 0; k < cols; k++) {
                absMax = Math.max(absMax, Math.abs(x[r * cols + k]));
            }
            float scale = absMax > 0 ? absMax / half : 1;
            for (int k = 0; k < cols; k++) {
                q[r * cols + k] = (float) Math.max(0, Math.min(255, Math.rint(x[r * cols + k] / scale) + half + 1));
            }
        }
        return q;
    }

    @Test
    void anActivationIsQuantizedRowByRowAsItsDefinitionSaysWithinOneStepOfRounding() {
        for (int levels : new int[] {255, 127}) {
            INDArray x = random(M, K);
            x.getRow(1).muli(100); // a row of large values leaves the others' steps as they were
            float[] expected = quantizedByHand(x.dup().reshape(-1).toFloatVector(), (int) M, levels);
            try (Int8Products.QuantizedActivation q = OneDnnInt8.quantize(x, levels)) {
                float[] got = q.values().castTo(DataType.FLOAT).reshape(-1).toFloatVector();
                for (int i = 0; i < got.length; i++) {
                    // oneDNN multiplies by 1 / scale where the definition divides: a tie may round the other way
                    assertTrue(Math.abs(got[i] - expected[i]) <= 1, "element " + i + ": " + got[i] + " vs "
                            + expected[i]);
                    assertTrue(got[i] >= 1 && got[i] <= levels, "within 1.." + levels + ": " + got[i]);
                }
                float[] scales = q.rowScales().toFloatVector();
                for (int r = 0; r < M; r++) {
                    double error = q.dequantized().getRow(r).sub(x.getRow(r)).amaxNumber().doubleValue();
                    assertTrue(error <= scales[r] * 0.5001 + 1e-7, "levels " + levels + ", row " + r
                            + ": largest error " + error + " for a step of " + scales[r]);
                }
                assertTrue(scales[1] > 50 * scales[0], "row 1's own scale: " + scales[1] + " vs " + scales[0]);
            }
        }
    }

    @Test
    void aTransposedActivationIsQuantizedFromItsOwnLayout() {
        INDArray x = random(K, M).transpose();
        try (Int8Products.QuantizedActivation q = OneDnnInt8.quantize(x, 255)) {
            assertEquals(List.of(M, K), List.of(q.values().size(0), q.values().size(1)));
            double step = q.rowScales().maxNumber().doubleValue();
            assertTrue(q.dequantized().sub(x).amaxNumber().doubleValue() <= step * 0.5001 + 1e-7);
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
            try (Int8Products.QuantizedActivation qx = OneDnnInt8.quantize(tx ? x.transpose() : x,
                    weights.levels())) {
                DynamicCustomOp plain = DynamicCustomOp.builder("matmul").addIntegerArguments(flags(false, false))
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

    /** {@code x · w} by libnd4j's {@code matmul} into a new row-major array, as the graph runs its products. */
    private static INDArray product(INDArray x, INDArray w) {
        long[] shape = x.shape().clone();
        shape[shape.length - 1] = w.size(-1);
        INDArray z = Nd4j.zeros(DataType.FLOAT, shape);
        Nd4j.getExecutioner().exec(DynamicCustomOp.builder("matmul").addInputs(x, w).addOutputs(z).build());
        return z;
    }

    /**
     * Activations are quantized row by row: a row's int8 product is the same alone as beside a row of values a
     * thousand times larger (the GELU's long tail), which per-tensor quantization would give a thousand times coarser
     * steps. So a text's probabilities do not move with the texts batched with it.
     */
    @Test
    void aRowsInt8ProductDoesNotDependOnTheRowsBatchedWithIt() {
        INDArray x = random(M, K), w = random(K, N);
        x.getRow(M - 1).muli(1000);
        INDArray first = x.getRow(0).reshape(1, K).dup();
        try (Int8Products.QuantizedWeights weights = Int8Products.QuantizedWeights.of(List.of(w),
                !CpuInfo.Cpu.thisOne().hasVnni())) {
            long before = Int8Products.computed();
            INDArray batched = Int8Products.during(weights, () -> product(x, w));
            INDArray alone = Int8Products.during(weights, () -> product(first, w));
            assertEquals(before + 2, Int8Products.computed(), "both in int8");
            double diff = batched.getRow(0).sub(alone.getRow(0)).amaxNumber().doubleValue();
            assertTrue(diff < TOLERANCE, "row 0 beside a large row vs alone: " + diff);
            double moved = alone.sub(OneDnnKernels.inLibnd4j(() -> product(first, w))).amaxNumber().doubleValue();
            assertTrue(moved > QUANTIZED_AWAY, "quantized (moved " + moved + ")");
        }
    }

    @Test
    void aProductWithoutAWeightStaysFloat32InRank2And3() {
        for (long[] batch : new long[][] {{}, {2}}) {
            INDArray x = random(shape(batch, M, K, false)), y = random(shape(batch, K, N, false));
            try (Int8Products.QuantizedWeights weights = Int8Products.QuantizedWeights.of(List.of(random(K, N)),
                    false)) {
                long int8 = Int8Products.computed(), float32 = Int8Products.float32();
                INDArray z = Int8Products.during(weights, () -> product(x, y));
                assertEquals(int8, Int8Products.computed());
                assertEquals(float32 + 1, Int8Products.float32());
                assertTrue(z.equalsWithEps(OneDnnKernels.inLibnd4j(() -> product(x, y)), TOLERANCE));
            }
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
