package dev.bertclf.nd4jfix.speed;

import dev.bertclf.CpuFeatures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.context;
import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.dup;
import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.random;
import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.shape;
import static dev.bertclf.nd4jfix.speed.OneDnnKernelsTest.toObjects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inside {@link Bf16Products#during}, {@code matmul} and {@code matmul_bp} give libnd4j's float32 results for the
 * bf16-rounded inputs (so oneDNN rounded the inputs and nothing else, and summed in float32), for every combination
 * of libnd4j's arguments; outside it nothing changes; a small network trains to float32's losses within bf16's
 * rounding; inference from kept bf16 copies of the weights is inference that rounds them in every pass. The bf16
 * cases need a CPU with bf16 products and are skipped elsewhere; the float32 case runs on every CPU.
 */
class Bf16ProductsTest {
    /** Float32 sums of 7 products of values in [-1, 1): rounding is far below this. */
    private static final double TOLERANCE = 1e-5;
    /** bf16 keeps 8 significant bits: rounding 7 inputs in [-1, 1) moves such a sum by about 1e-2. */
    private static final double ROUNDED_AWAY = 1e-4;
    private static final long M = 5;
    private static final long K = 7;
    private static final long N = 6;

    private static OneDnnExecutioner executioner;

    @BeforeAll
    static void install() {
        OneDnnKernelsTest.install();
        executioner = (OneDnnExecutioner) OneDnnKernelsTest.executioner;
    }

    private static INDArray rounded(INDArray x) {
        return x.castTo(DataType.BFLOAT16).castTo(DataType.FLOAT);
    }

    /**
     * Runs {@code name} in bf16 on {@code inputs} and in libnd4j on the rounded inputs; the outputs agree, oneDNN
     * computed {@code products} bf16 products, and the result is not libnd4j's on the unrounded inputs.
     */
    private static void assertFloat32OfRoundedInputs(String name, int[] iArgs, double[] tArgs, List<INDArray> inputs,
            List<INDArray> initialOutputs, int products, String what) {
        DynamicCustomOp op = DynamicCustomOp.builder(name).addIntegerArguments(iArgs)
                .addFloatingPointArguments(toObjects(tArgs)).build();
        List<INDArray> inBf16 = dup(initialOutputs);
        List<INDArray> ofRounded = dup(initialOutputs);
        List<INDArray> ofUnrounded = dup(initialOutputs);
        List<INDArray> roundedInputs = new ArrayList<>();
        inputs.forEach(x -> roundedInputs.add(rounded(x)));
        long before = Bf16Products.computed();
        try (OpContext a = context(op, inputs, inBf16); OpContext b = context(op, roundedInputs, ofRounded);
                OpContext c = context(op, inputs, ofUnrounded)) {
            Bf16Products.during(() -> executioner.exec(op, a));
            executioner.execInLibnd4j(op, b);
            executioner.execInLibnd4j(op, c);
        } catch (Exception e) {
            throw new AssertionError(what, e);
        }
        assertEquals(before + products, Bf16Products.computed(), what + ": oneDNN computed it in bf16");
        for (int k = 0; k < inBf16.size(); k++) {
            double diff = inBf16.get(k).sub(ofRounded.get(k)).amaxNumber().doubleValue();
            assertTrue(diff < TOLERANCE, what + ", output " + k + ": largest difference " + diff);
            double moved = inBf16.get(k).sub(ofUnrounded.get(k)).amaxNumber().doubleValue();
            assertTrue(moved > ROUNDED_AWAY, what + ", output " + k + ": inputs not rounded (moved " + moved + ")");
        }
    }

    private static int[] flags(boolean tx, boolean ty, boolean tz) {
        return new int[] {tx ? 1 : 0, ty ? 1 : 0, tz ? 1 : 0};
    }

    @Test
    void everyTranspositionOfARank2And3ProductIsFloat32OfTheRoundedInputsWithAlphaAndBeta() {
        CpuFeatures.assumeBf16();
        for (long[] batch : new long[][] {{}, {3}}) {
            for (int f = 0; f < 8; f++) {
                boolean tx = (f & 1) != 0, ty = (f & 2) != 0, tz = (f & 4) != 0;
                INDArray x = random(shape(batch, M, K, tx));
                INDArray y = random(shape(batch, K, N, ty));
                INDArray z = random(shape(batch, M, N, tz));
                for (double[] ab : new double[][] {{1, 0}, {0.5, -2}}) {
                    assertFloat32OfRoundedInputs("matmul", flags(tx, ty, tz), ab, List.of(x, y), List.of(z), 1,
                            "matmul rank " + (batch.length + 2) + " tx=" + tx + " ty=" + ty + " tz=" + tz
                                    + " alpha, beta=" + ab[0] + ", " + ab[1]);
                }
            }
        }
    }

    @Test
    void everyTranspositionOfTheGradientIsFloat32OfTheRoundedInputs() {
        CpuFeatures.assumeBf16();
        for (long[] batch : new long[][] {{}, {3}}) {
            for (int f = 0; f < 8; f++) {
                boolean tx = (f & 1) != 0, ty = (f & 2) != 0, tz = (f & 4) != 0;
                INDArray x = random(shape(batch, M, K, tx));
                INDArray y = random(shape(batch, K, N, ty));
                INDArray eps = random(shape(batch, M, N, tz));
                assertFloat32OfRoundedInputs("matmul_bp", flags(tx, ty, tz), new double[] {1, 0}, List.of(x, y, eps),
                        List.of(Nd4j.zeros(DataType.FLOAT, x.shape()), Nd4j.zeros(DataType.FLOAT, y.shape())), 2,
                        "matmul_bp rank " + (batch.length + 2) + " tx=" + tx + " ty=" + ty + " tz=" + tz);
            }
        }
    }

    @Test
    void aSingleRowTimesAMatrixRunsDespiteNd4jsUnitStrides() {
        CpuFeatures.assumeBf16();
        // ND4J gives a [1, K] row strides [1, 1]: oneDNN 2.5 takes that description and then fails to run it
        INDArray row = random(1, K);
        assertFloat32OfRoundedInputs("matmul", flags(false, false, false), new double[] {1, 0},
                List.of(row, random(K, N)), List.of(Nd4j.zeros(DataType.FLOAT, 1, N)), 1, "[1, K]·[K, N]");
    }

    @Test
    void outsideDuringARank2ProductStaysLibnd4jsFloat32Product() {
        INDArray x = random(M, K), y = random(K, N);
        long before = Bf16Products.computed();
        INDArray z = x.mmul(y);
        assertEquals(before, Bf16Products.computed());
        INDArray expected = Nd4j.create(DataType.FLOAT, M, N);
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double sum = 0;
                for (int k = 0; k < K; k++) {
                    sum += x.getDouble(i, k) * y.getDouble(k, j);
                }
                expected.putScalar(i, j, sum);
            }
        }
        assertTrue(z.sub(expected).amaxNumber().doubleValue() < TOLERANCE);
    }

    /** A softmax classifier with one hidden layer, trained {@code steps} steps from fixed weights; its losses. */
    private static List<Double> trainingLosses(boolean bf16, int steps) {
        Nd4j.getRandom().setSeed(7);
        INDArray features = random(64, 32);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 64, 3);
        for (int i = 0; i < 64; i++) {
            // a class the features decide: the sign pattern of two of them
            labels.putScalar(i, (features.getDouble(i, 0) > 0 ? 1 : 0) + (features.getDouble(i, 1) > 0 ? 1 : 0), 1);
        }
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, 32);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, 3);
        SDVariable hidden = sd.nn.tanh(in.mmul(sd.var("w1", random(32, 16))).add(sd.var("b1", Nd4j.zeros(16))));
        SDVariable logits = hidden.mmul(sd.var("w2", random(16, 3))).add(sd.var("b2", Nd4j.zeros(3)));
        sd.loss.softmaxCrossEntropy("loss", label, logits, null);
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(0.05)).dataSetFeatureMapping("in")
                .dataSetLabelMapping("label").minimize("loss").build());
        List<Double> losses = new ArrayList<>();
        DataSet batch = new DataSet(features, labels);
        for (int s = 0; s < steps; s++) {
            Runnable step = () -> sd.fit(batch);
            if (bf16) {
                Bf16Products.during(step);
            } else {
                step.run();
            }
            losses.add(sd.outputSingle(Map.of("in", features, "label", labels), "loss").getDouble(0));
        }
        return losses;
    }

    @Test
    void aNetworkTrainedWithBf16ProductsFollowsFloat32sLossesWithinBf16Rounding() {
        CpuFeatures.assumeBf16();
        List<Double> fp32 = trainingLosses(false, 30);
        long before = Bf16Products.computed();
        List<Double> bf16 = trainingLosses(true, 30);
        // each step: two forward products and two matmul_bp of two products each
        assertTrue(Bf16Products.computed() - before >= 30 * 6, "the training products ran in bf16");
        assertTrue(fp32.get(29) < 0.5 * fp32.get(0), "float32 learns: " + fp32);
        double worst = 0;
        for (int s = 0; s < 30; s++) {
            worst = Math.max(worst, Math.abs(bf16.get(s) - fp32.get(s)) / fp32.get(s));
        }
        assertTrue(worst < 0.05, "largest relative loss difference " + worst + ": " + fp32 + " vs " + bf16);
        assertTrue(worst > 0, "bf16 losses differ from float32's somewhere");
    }

    @Test
    void inferenceFromKeptWeightsEqualsRoundingThemInEveryPassAndRoundsEachWeightOnce() {
        CpuFeatures.assumeBf16();
        Nd4j.getRandom().setSeed(11);
        SameDiff sd = SameDiff.create();
        SDVariable in = sd.placeHolder("in", DataType.FLOAT, -1, 32);
        SDVariable hidden = sd.nn.tanh(in.mmul(sd.var("w1", random(32, 16))).add(sd.var("b1", random(16))));
        hidden.mmul(sd.var("w2", random(16, 3))).add("out", sd.constant("b2", random(3)));
        INDArray features = random(8, 32);
        Map<String, INDArray> ph = Map.of("in", features);
        INDArray fp32 = sd.outputSingle(ph, "out").dup();
        INDArray[] roundedEachPass = new INDArray[1];
        Bf16Products.during(() -> roundedEachPass[0] = sd.outputSingle(ph, "out").dup());

        try (Bf16Products.RoundedWeights weights = Bf16Products.RoundedWeights.of(sd)) {
            for (int pass = 0; pass < 3; pass++) {
                long before = Bf16Products.computed();
                INDArray kept = Bf16Products.during(weights, () -> sd.outputSingle(ph, "out").dup());
                assertEquals(before + 2, Bf16Products.computed(), "both products in bf16");
                assertEquals(roundedEachPass[0], kept, "pass " + pass + ": the kept copies are the weights' rounding");
                assertEquals(2, weights.kept(), "w1 and w2, each once; the biases are in no product");
            }
            double moved = fp32.sub(roundedEachPass[0]).amaxNumber().doubleValue();
            assertTrue(moved > ROUNDED_AWAY && moved < 5e-2, "bf16 near float32, not equal: " + moved);
            weights.close();
            assertEquals(0, weights.kept());
            assertEquals(roundedEachPass[0], Bf16Products.during(weights, () -> sd.outputSingle(ph, "out").dup()),
                    "once closed, the weights are rounded in each pass again");
        }
    }
}
