package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.CpuFeatures;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.config.Truncation;
import dev.bertclf.data.BertWordPieceTokenizer;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.data.LabeledText;
import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A classifier runs its passes in the precision it was given ({@code inference.precision}): bf16 or int8. */
class ClassifierTest {
    @Test
    @Tag("slow")
    void aBf16ClassifierComputesItsProductsInBf16AndPredictsWhatTheFp32OneDoes() throws Exception {
        CpuFeatures.assumeBf16();
        RunFolder run = RealBert.tinyRun();
        Classifier fp32 = run.classifier(Precision.FP32);
        List<String> texts = RealBert.reviews(RealBert.IMDB_TEST, 8).stream().map(LabeledText::text).toList();
        long before = Bf16Products.computed();
        float[][] p32 = fp32.predict(texts);
        assertEquals(before, Bf16Products.computed(), "fp32: no bf16 products");

        try (Classifier bf16 = new Classifier(fp32.graph(), fp32.featurizer(), fp32.labels(), Precision.BF16)) {
            long fellBack = Bf16Products.fellBack();
            float[][] p16 = bf16.predict(texts);
            float[][] again = bf16.predict(texts);
            // per encoder layer: Q, K, V, the attention's two batched products, its output, the FFN's two; then
            // BERT's segment embedding (a one-hot product), the pooler and the head
            long products = 8L * run.settings().model().encoderLayers() + 3;
            assertEquals(2 * products, Bf16Products.computed() - before, "every product of both passes in bf16");
            assertEquals(fellBack, Bf16Products.fellBack());
            double largest = 0;
            for (int i = 0; i < texts.size(); i++) {
                assertEquals(p16[i][0], again[i][0], 0f, "the kept weights give the same probabilities every pass");
                largest = Math.max(largest, Math.abs(p16[i][0] - p32[i][0]));
                if (Math.abs(p32[i][0] - 0.5) > 0.1) {
                    assertEquals(Classifier.argMax(p32[i]), Classifier.argMax(p16[i]), "text " + i);
                }
            }
            assertTrue(largest > 0 && largest < 0.05, "bf16 probabilities within rounding of fp32's: " + largest);
        }
    }

    @Test
    @Tag("slow")
    void anInt8ClassifierQuantizesEachWeightOnceAndPredictsTheHundredFixtureReviewsAsTheFp32OneDoes()
            throws Exception {
        RunFolder run = RealBert.tinyRun();
        Classifier fp32 = run.classifier(Precision.FP32);
        List<LabeledText> reviews = new ArrayList<>(RealBert.reviews(RealBert.IMDB_TEST, 40));
        reviews.addAll(RealBert.reviews(RealBert.IMDB_TRAIN, 60));
        List<String> texts = reviews.stream().map(LabeledText::text).toList();
        long before = Engine.int8Products();
        float[][] p32 = fp32.predict(texts);
        assertEquals(before, Engine.int8Products(), "fp32: no int8 products");

        try (Classifier int8 = new Classifier(fp32.graph(), fp32.featurizer(), fp32.labels(), Precision.INT8)) {
            long float32Before = Engine.int8Float32Products();
            float[][] p8 = int8.predict(texts.subList(0, 8));
            int layers = run.settings().model().encoderLayers();
            // per encoder layer: Q, K, V, the attention's output, the FFN's two; then BERT's segment embedding (a
            // one-hot product), the pooler and the head; the attention's two batched products stay float32
            assertEquals(6L * layers + 3, Engine.int8Products() - before, "the dense products of a pass in int8");
            assertEquals(2L * layers, Engine.int8Float32Products() - float32Before, "the attention's");
            p8 = int8.predict(texts);
            assertEquals(6L * layers + 3, int8.quantizedWeights(), "each weight quantized once, in the first pass");

            double largest = 0, sum = 0;
            int flipped = 0, right32 = 0, right8 = 0;
            for (int i = 0; i < texts.size(); i++) {
                double diff = Math.abs(p8[i][0] - p32[i][0]);
                largest = Math.max(largest, diff);
                sum += diff;
                int label32 = Classifier.argMax(p32[i]), label8 = Classifier.argMax(p8[i]);
                if (label32 != label8) {
                    flipped++;
                    assertTrue(Math.abs(p32[i][0] - 0.5) < 0.05, "review " + i + " flipped at fp32 " + p32[i][0]);
                }
                right32 += fp32.labels().get(label32).equals(reviews.get(i).label()) ? 1 : 0;
                right8 += fp32.labels().get(label8).equals(reviews.get(i).label()) ? 1 : 0;
            }
            String figures = String.format("int8 against fp32 on 100 reviews: largest difference %.4f, mean %.4f,"
                    + " %d flipped, right %d vs %d", largest, sum / texts.size(), flipped, right8, right32);
            System.out.println(figures);
            assertTrue(largest > 0 && largest < 0.05, figures);
            assertTrue(sum / texts.size() < 0.01, figures);
            assertTrue(Math.abs(right8 - right32) <= 2, figures);
        }
    }

    /**
     * A long text read in windows: its windows, made here by hand from the text's word pieces and each run alone
     * through the graph's logits, then averaged (or the largest, class by class) and put through the softmax, give
     * the probabilities the classifier gives; and a text of one window gets what truncation would give it.
     */
    @Test
    @Tag("slow")
    void aLongTextReadInWindowsGetsItsWindowsPooledLogitsThroughTheSoftmax() throws Exception {
        Classifier truncating = RealBert.tinyRun().classifier(Precision.FP32);
        float[] cut = truncating.predict(List.of("A fine film."))[0];
        truncating.release();
        for (String pooling : List.of("mean", "max")) {
            RunFolder windowed = RealBert.tinyRunInWindows(java.nio.file.Files.createTempDirectory("windows"),
                    pooling);
            Classifier c = windowed.classifier(Precision.FP32);
            List<String> texts = RealBert.reviews(RealBert.IMDB_TEST, 4).stream().map(LabeledText::text).toList();
            float[][] pooled = c.predict(texts);
            Featurizer whole = new Featurizer(windowed.file(RunFolder.VOCAB), TextNormalization.UNCASED,
                    new FeatureSettings(512, Truncation.HEAD, 0.5, Padding.BATCH, true));
            for (int t = 0; t < texts.size(); t++) {
                List<BertWordPieceTokenizer.Piece> pieces = whole.pieces(texts.get(t));
                List<BertWordPieceTokenizer.Piece> body = new ArrayList<>(pieces.subList(1, pieces.size() - 1));
                assertTrue(body.size() > 30 + 16, "review " + t + " needs 3 windows or more: " + body.size());
                int covered = 30 + 15 * 16; // 16 windows at most (features.max-windows): the run's head+tail, 0.25
                if (body.size() > covered) {
                    List<BertWordPieceTokenizer.Piece> headAndTail = new ArrayList<>(body.subList(0, 68));
                    headAndTail.addAll(body.subList(body.size() - (covered - 68), body.size()));
                    body = headAndTail;
                }
                int n = body.size();
                List<Integer> starts = new ArrayList<>();
                for (int s = 0; s + 30 < n; s += 16) {
                    starts.add(s);
                }
                starts.add(n - 30);
                double[] sum = new double[2];
                double[] max = {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY};
                for (int s : starts) {
                    int[] ids = new int[32];
                    ids[0] = whole.id("[CLS]");
                    for (int k = 0; k < 30; k++) {
                        ids[k + 1] = whole.id(body.get(s + k).token());
                    }
                    ids[31] = whole.id("[SEP]");
                    INDArray row = Nd4j.createFromArray(new int[][]{ids});
                    float[] logits = Classifier.logits(c.graph(), new Featurizer.Batch(row,
                            Nd4j.ones(DataType.INT32, 1, 32), Nd4j.zeros(DataType.INT32, 1, 32))).toFloatVector();
                    for (int j = 0; j < 2; j++) {
                        sum[j] += logits[j];
                        max[j] = Math.max(max[j], logits[j]);
                    }
                }
                double a = pooling.equals("mean") ? sum[0] / starts.size() : max[0];
                double b = pooling.equals("mean") ? sum[1] / starts.size() : max[1];
                double p1 = 1 / (1 + Math.exp(a - b));
                assertEquals(p1, pooled[t][1], 1e-5, pooling + " of the " + starts.size() + " windows of review " + t);
                assertEquals(1 - p1, pooled[t][0], 1e-5);
            }
            float[] shortText = c.predict(List.of("A fine film."))[0];
            assertEquals(cut[1], shortText[1], 1e-6, "a text of one window");
            c.release();
        }
    }
}
