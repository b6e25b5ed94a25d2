package dev.bertclf.nd4jfix.speed;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Batched products and LayerNorms sent to oneDNN give what libnd4j's own {@code matmul}, {@code matmul_bp} and
 * {@code layer_norm} kernels give, for every combination of libnd4j's arguments, and oneDNN really computed them.
 */
class OneDnnKernelsTest {
    /** Sums of 7 products of values in [-1, 1): float rounding is far below this. */
    private static final double TOLERANCE = 1e-5;
    private static final long M = 5;
    private static final long K = 7;
    private static final long N = 6;

    /** A {@link OneDnnExecutioner} (typed as the interface: the CUDA build has no class for it to extend). */
    static OpExecutioner executioner;

    @BeforeAll
    static void install() {
        assumeTrue(Nd4j.getBackend().getClass().getName().endsWith(".CpuBackend"), "libnd4j's CPU backend only");
        assertTrue(OneDnnKernels.install(), "oneDNN loads on the CPU backend");
        assertTrue(OneDnnKernels.install(), "idempotent");
        executioner = Nd4j.getExecutioner();
        assertTrue(executioner instanceof OneDnnExecutioner);
    }

    static INDArray random(long... shape) {
        return Nd4j.rand(DataType.FLOAT, shape).subi(0.5).muli(2);
    }

    static long[] shape(long[] batch, long rows, long cols, boolean transposed) {
        long[] s = new long[batch.length + 2];
        System.arraycopy(batch, 0, s, 0, batch.length);
        s[batch.length] = transposed ? cols : rows;
        s[batch.length + 1] = transposed ? rows : cols;
        return s;
    }

    static OpContext context(CustomOp op, List<INDArray> inputs, List<INDArray> outputs) {
        OpContext c = Nd4j.getExecutioner().buildContext();
        c.setInputArrays(inputs);
        c.setOutputArrays(outputs);
        c.setIArguments(op.iArgs());
        c.setTArguments(op.tArgs());
        c.setBArguments(op.bArgs());
        return c;
    }

    /** Runs {@code op} both ways on copies of {@code inputs} and of the outputs' initial values; compares. */
    private static void assertSameAsLibnd4j(String name, int[] iArgs, double[] tArgs, List<INDArray> inputs,
            List<INDArray> initialOutputs, String what) {
        assertSameAsLibnd4j(DynamicCustomOp.builder(name).addIntegerArguments(iArgs)
                .addFloatingPointArguments(toObjects(tArgs)).build(), inputs, initialOutputs,
                OneDnnKernels::products, initialOutputs.size(), what);
    }

    /** Runs {@code op} both ways; oneDNN's {@code counter} grows by {@code computed}; the outputs agree. */
    private static void assertSameAsLibnd4j(DynamicCustomOp op, List<INDArray> inputs, List<INDArray> initialOutputs,
            LongSupplier counter, int computed, String what) {
        List<INDArray> viaOneDnn = dup(initialOutputs);
        List<INDArray> viaLibnd4j = dup(initialOutputs);
        long before = counter.getAsLong();
        try (OpContext a = context(op, inputs, viaOneDnn); OpContext b = context(op, inputs, viaLibnd4j)) {
            executioner.exec(op, a);
            ((OneDnnExecutioner) executioner).execInLibnd4j(op, b);
        } catch (Exception e) {
            throw new AssertionError(what, e);
        }
        assertEquals(before + computed, counter.getAsLong(), what + ": oneDNN computed it");
        for (int k = 0; k < viaOneDnn.size(); k++) {
            double diff = viaOneDnn.get(k).sub(viaLibnd4j.get(k)).amaxNumber().doubleValue();
            assertTrue(diff < TOLERANCE, what + ", output " + k + ": largest difference " + diff);
        }
    }

    static List<INDArray> dup(List<INDArray> arrays) {
        List<INDArray> copies = new ArrayList<>();
        arrays.forEach(a -> copies.add(a.dup()));
        return copies;
    }

    static Double[] toObjects(double[] v) {
        Double[] o = new Double[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = v[i];
        }
        return o;
    }

    @Test
    void everyTranspositionOfARank3And4ProductEqualsLibnd4jsWithAlphaAndBeta() {
        for (long[] batch : new long[][] {{3}, {2, 3}}) {
            for (int flags = 0; flags < 8; flags++) {
                boolean tx = (flags & 1) != 0, ty = (flags & 2) != 0, tz = (flags & 4) != 0;
                INDArray x = random(shape(batch, M, K, tx));
                INDArray y = random(shape(batch, K, N, ty));
                INDArray z = random(shape(batch, M, N, tz));
                for (double[] ab : new double[][] {{1, 0}, {1, 1}, {0.5, -2}}) {
                    assertSameAsLibnd4j("matmul", new int[] {tx ? 1 : 0, ty ? 1 : 0, tz ? 1 : 0}, ab,
                            List.of(x, y), List.of(z), "matmul rank " + (batch.length + 2) + " tx=" + tx + " ty="
                                    + ty + " tz=" + tz + " alpha, beta=" + ab[0] + ", " + ab[1]);
                }
            }
        }
    }

    @Test
    void everyTranspositionOfTheGradientEqualsLibnd4jsMatmulBp() {
        long[] batch = {2, 3};
        for (int flags = 0; flags < 8; flags++) {
            boolean tx = (flags & 1) != 0, ty = (flags & 2) != 0, tz = (flags & 4) != 0;
            INDArray x = random(shape(batch, M, K, tx));
            INDArray y = random(shape(batch, K, N, ty));
            INDArray eps = random(shape(batch, M, N, tz));
            List<INDArray> zeros = List.of(Nd4j.zeros(DataType.FLOAT, x.shape()),
                    Nd4j.zeros(DataType.FLOAT, y.shape()));
            for (double[] ab : new double[][] {{1, 0}, {1, 1}}) {
                assertSameAsLibnd4j("matmul_bp", new int[] {tx ? 1 : 0, ty ? 1 : 0, tz ? 1 : 0}, ab,
                        List.of(x, y, eps), zeros, "matmul_bp tx=" + tx + " ty=" + ty + " tz=" + tz + " alpha, beta="
                                + ab[0] + ", " + ab[1]);
            }
        }
    }

    @Test
    void inputsThatAreStridedViewsOfOtherArraysGiveLibnd4jsProduct() {
        // [2, 5, 3, 7] permuted to [2, 3, 5, 7], and a slice of a larger array: neither is contiguous
        INDArray x = random(2, M, 3, K).permute(0, 2, 1, 3);
        INDArray y = random(4, 3, K, N).get(NDArrayIndex.interval(1, 3));
        assertSameAsLibnd4j("matmul", new int[] {0, 0, 0}, new double[] {1, 0}, List.of(x, y),
                List.of(Nd4j.zeros(DataType.FLOAT, 2, 3, M, N)), "views");
    }

    @Test
    void moreLayoutsThanAThreadKeepsGiveLibnd4jsProductsBeforeAndAfterTheOldestAreGivenUp() {
        for (int round = 0; round < 2; round++) {
            for (long rows = 1; rows <= OneDnn.KEPT_PER_THREAD + 8; rows++) {
                assertSameAsLibnd4j("matmul", new int[] {0, 1, 0}, new double[] {1, 0},
                        List.of(random(2, rows, K), random(2, N, K)), List.of(Nd4j.zeros(DataType.FLOAT, 2, rows, N)),
                        "round " + round + ", " + rows + " rows");
            }
        }
    }

    @Test
    void layerNormOverTheLastAxisEqualsLibnd4jsKernelUnderBothOpNames() {
        for (long[] shape : new long[][] {{16, 768}, {2, 5, 32}, {1, 3}}) {
            long n = shape[shape.length - 1];
            INDArray x = random(shape).muli(3).addi(1);
            DynamicCustomOp libnd4jsOp = DynamicCustomOp.builder("layer_norm").addIntegerArguments(shape.length - 1)
                    .addBooleanArguments(false).build();
            DynamicCustomOp ours = new DecomposedLayerNormGradient.LayerNormOp();
            ours.addIArgument(shape.length - 1);
            ours.addBArgument(false);
            for (DynamicCustomOp op : List.of(libnd4jsOp, ours)) {
                assertSameAsLibnd4j(op, List.of(x, random(n), random(n)), List.of(Nd4j.zeros(DataType.FLOAT, shape)),
                        OneDnnKernels::layerNorms, 1, op.opName() + " " + java.util.Arrays.toString(shape));
            }
        }
    }

    @Test
    void layerNormOfRowsOfTinyVarianceAddsNoEpsilonAsLibnd4jsKernel() {
        // deviations of about 1e-4 (around 0, so without cancellation): an epsilon of 1e-5 in the variance would
        // shrink the result about 30-fold
        INDArray x = random(8, 64).muli(1e-4);
        DynamicCustomOp op = DynamicCustomOp.builder("layer_norm").addIntegerArguments(1).addBooleanArguments(false)
                .build();
        assertSameAsLibnd4j(op, List.of(x, random(64), random(64)), List.of(Nd4j.zeros(DataType.FLOAT, 8, 64)),
                OneDnnKernels::layerNorms, 1, "tiny variance");
    }

    @Test
    void aSameDiffGraphsBatchedProductAndItsGradientRunOnOneDnn() {
        SameDiff sd = SameDiff.create();
        SDVariable q = sd.var("q", random(2, 3, M, K));
        SDVariable k = sd.var("k", random(2, 3, N, K));
        SDVariable scores = sd.mmul("scores", q, k, false, true, false);
        SDVariable w = sd.constant("w", random(2, 3, M, N));
        sd.setLossVariables(scores.mul(w).sum("loss"));
        long before = OneDnnKernels.products();
        Map<String, INDArray> grads = sd.calculateGradients(Map.of(), "q", "k");
        assertTrue(OneDnnKernels.products() >= before + 3,
                "the forward product and the two of its gradient");
        // dL/dq = W · k for loss = sum(W ∘ q·kᵀ), checked against rank-2 products (libnd4j's BLAS path)
        INDArray expected = Nd4j.create(DataType.FLOAT, 2, 3, M, K);
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 3; h++) {
                INDArray wb = w.getArr().get(NDArrayIndex.point(b),
                        NDArrayIndex.point(h));
                INDArray kb = k.getArr().get(NDArrayIndex.point(b),
                        NDArrayIndex.point(h));
                expected.get(NDArrayIndex.point(b),
                        NDArrayIndex.point(h)).assign(wb.mmul(kb));
            }
        }
        double diff = grads.get("q").sub(expected).amaxNumber().doubleValue();
        assertTrue(diff < TOLERANCE, "dL/dq: largest difference " + diff);
    }
}
