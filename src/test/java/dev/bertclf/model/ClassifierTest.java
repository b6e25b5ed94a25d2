package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.CpuFeatures;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.data.LabeledText;
import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

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
            // per encoder layer: Q, K, V, the attention's output, the FFN's first; then BERT's segment embedding (a
            // one-hot product), the pooler and the head; the attention's two batched products and the FFN's second
            // stay float32
            assertEquals(5L * layers + 3, Engine.int8Products() - before, "the dense products of a pass in int8");
            assertEquals(3L * layers, Engine.int8Float32Products() - float32Before, "the attention's and FFN out's");
            p8 = int8.predict(texts);
            assertEquals(5L * layers + 3, int8.quantizedWeights(), "each weight quantized once, in the first pass");

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
}
