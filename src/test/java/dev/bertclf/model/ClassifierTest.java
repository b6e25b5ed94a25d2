package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.CpuFeatures;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.data.LabeledText;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A classifier runs its passes in the precision it was given ({@code inference.precision}). */
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
}
