package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.TextNormalization;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The last layer computed for the [CLS] rows only gives BERT's pooled output and its gradients: against the TF
 * runtime, and against the graph's own full-width last layer.
 */
@Tag("slow")
class ClsOnlyLayerTest {
    private static final List<String> SHORT_TEXTS = List.of("A gem.", "meh",
            "Terrible acting, worse plot, and the ending made no sense at all.", "I laughed, I cried, I bought it.");
    /**
     * Largest gradient difference allowed, relative to the gradient's largest element: float32 sums in another
     * order agree within 2e-6 here (measured), while a gradient lost or taken through the wrong rows is off by the
     * order of the gradient itself.
     */
    private static final double GRADIENT_TOLERANCE = 1e-5;

    @Test
    void pooledOutputEqualsTensorflowsOnRealReviewsOnAPaddedBatchAndOnOneText() throws Exception {
        ModelDescriptor d = RealBert.descriptor();
        PretrainedBert.Loaded bert = PretrainedBert.load(d, RealBert.CACHE);
        SameDiff sd = bert.sd();
        ClsOnlyLayer.replacePooled(sd, d, d.layers() - 1);
        assertNull(sd.getVariable(GraphNames.SEQUENCE), "the full-width sequence output is gone");
        assertNull(sd.getVariable(String.format(d.tensors().layerOutput(), d.layers() - 1)),
                "the last layer's full-width output is gone");
        String queryKernel = String.format(d.tensors().layerVariables(), d.layers() - 1)
                + "attention/self/query/kernel";
        List<String> queries = sd.getVariables().get(queryKernel).getInputsForOp();
        assertEquals(1, queries.size(), "one query projection in the last layer");
        assertNotEquals(String.format(d.tensors().layerOutput(), d.layers() - 2),
                sd.getOps().get(queries.get(0)).getInputsToOp().get(0), "the query reads the [CLS] rows, not all");
        List<String> reviews = RealBert.reviews(RealBert.IMDB_TEST, 6).stream().map(LabeledText::text).toList();
        for (Featurizer.Batch b : List.of(featurize(bert, reviews, 128, Padding.FIXED),
                featurize(bert, SHORT_TEXTS, 64, Padding.BATCH), featurize(bert, SHORT_TEXTS.subList(2, 3), 64,
                Padding.BATCH))) {
            INDArray expected;
            try (TfReference tf = new TfReference(GraphDefs.read(bert.frozenGraph()), d.tensors(), 0)) {
                expected = tf.run(b.inputIds(), b.inputMask(), b.segmentIds()).get(GraphNames.POOLED);
            }
            INDArray pooled = sd.output(inputs(b), GraphNames.POOLED).get(GraphNames.POOLED);
            assertEquals(List.of(expected.shape()[0], expected.shape()[1]), List.of(pooled.shape()[0],
                    pooled.shape()[1]));
            double diff = pooled.sub(expected).amaxNumber().doubleValue();
            System.out.printf("ClsOnlyLayer %s: max |pooled - TF pooled| %.3g%n",
                    java.util.Arrays.toString(b.inputIds().shape()), diff);
            assertTrue(diff <= BertParityTest.POOLED_TOLERANCE, "pooled differs from TensorFlow by " + diff);
        }
    }

    @Test
    void gradientsEqualThoseThroughTheFullWidthLastLayer() {
        BertTwice two = BertTwice.load();
        ModelDescriptor d = two.d();
        SameDiff clsOnly = two.toCut();
        ClsOnlyLayer.replacePooled(clsOnly, d, d.layers() - 1);
        List<String> weights = new ArrayList<>();
        for (String w : List.of("attention/self/query/kernel", "attention/self/key/kernel",
                "attention/self/value/bias", "attention/output/dense/kernel", "attention/output/LayerNorm/gamma",
                "intermediate/dense/kernel", "output/dense/bias", "output/LayerNorm/beta")) {
            weights.add(String.format(d.tensors().layerVariables(), d.layers() - 1) + w);
        }
        weights.add(String.format(d.tensors().layerVariables(), d.layers() - 2) + "attention/self/query/kernel");
        weights.add(d.tensors().poolerKernel());
        Map<String, INDArray> expected = gradients(two.full(), weights, two.batch());
        Map<String, INDArray> actual = gradients(clsOnly, weights, two.batch());
        for (String w : weights) {
            INDArray e = expected.get(w);
            assertNotNull(actual.get(w), w);
            double scale = e.amaxNumber().doubleValue();
            double diff = actual.get(w).sub(e).amaxNumber().doubleValue();
            System.out.printf("ClsOnlyLayer gradient %s: max |g| %.3g, max |diff| %.3g%n", w, scale, diff);
            assertTrue(scale > 0, w + " has a gradient");
            assertTrue(diff <= GRADIENT_TOLERANCE * scale,
                    w + ": gradients differ by " + diff + " (largest " + scale + ")");
        }
    }

    @Test
    void aTruncatedEncodersPooledOutputEqualsTheFullWidthOne() {
        BertTwice two = BertTwice.load();
        ClassifierHead.truncatedPooled(two.full(), two.d(), 4);
        INDArray expected = two.full().output(inputs(two.batch()), ClassifierHead.TRUNCATED_POOLED)
                .get(ClassifierHead.TRUNCATED_POOLED);
        SameDiff sd = two.toCut();
        ClsOnlyLayer.replacePooled(sd, two.d(), 3);
        assertNull(sd.getVariable(String.format(two.d().tensors().layerOutput(), 4)),
                "layers after the fourth are gone");
        double diff = sd.output(inputs(two.batch()), GraphNames.POOLED).get(GraphNames.POOLED).sub(expected)
                .amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5, "pooled output of 4 layers differs by " + diff);
    }

    /**
     * BERT-base loaded twice, one copy to cut down to the [CLS] rows and one left full width, with a batch of the
     * short texts padded to its longest ({@code [4, seqLen]}).
     */
    private record BertTwice(ModelDescriptor d, SameDiff toCut, SameDiff full, Featurizer.Batch batch) {
        static BertTwice load() {
            ModelDescriptor d = RealBert.descriptor();
            PretrainedBert.Loaded bert = PretrainedBert.load(d, RealBert.CACHE);
            return new BertTwice(d, bert.sd(), PretrainedBert.load(d, RealBert.CACHE).sd(),
                    featurize(bert, SHORT_TEXTS, 64, Padding.BATCH));
        }
    }

    private static Map<String, INDArray> gradients(SameDiff sd, List<String> weights, Featurizer.Batch b) {
        return RealBert.probeGradients(sd, weights, inputs(b));
    }

    private static Featurizer.Batch featurize(PretrainedBert.Loaded bert, List<String> texts, int maxLen,
                                              Padding padding) {
        return new Featurizer(bert.vocab(), TextNormalization.UNCASED,
                new FeatureSettings(maxLen, Truncation.HEAD, 0.25, padding, true))
                .featurize(texts, padding == Padding.FIXED);
    }

    private static Map<String, INDArray> inputs(Featurizer.Batch b) {
        return Map.of(GraphNames.INPUT_IDS, b.inputIds(), GraphNames.INPUT_MASK, b.inputMask(),
                GraphNames.SEGMENT_IDS, b.segmentIds());
    }
}
