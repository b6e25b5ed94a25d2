package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.data.LabeledText;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.nd4jfix.speed.OneDnnKernels;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The imported, repaired BERT-base computes what the TensorFlow runtime computes on the same tokenized batch of
 * real reviews. This is the claim the whole product stands on.
 */
@Tag("slow")
class BertParityTest {
    static final double POOLED_TOLERANCE = 1e-4;
    static final double SEQUENCE_TOLERANCE = 1e-3;

    @Test
    void samediffMatchesTensorflowOnRealReviews() throws Exception {
        PretrainedBert.Loaded bert = RealBert.load();
        List<String> texts = RealBert.reviews(RealBert.IMDB_TEST, 8).stream().map(LabeledText::text).toList();
        Featurizer f = new Featurizer(bert.vocab(), TextNormalization.UNCASED,
                new FeatureSettings(128, Truncation.HEAD_TAIL, 0.25, Padding.FIXED, true));
        check(bert, f.featurize(texts, true), 128);
    }

    @Test
    void samediffMatchesTensorflowOnAPaddedShortBatch() {
        PretrainedBert.Loaded bert = RealBert.load();
        Featurizer f = new Featurizer(bert.vocab(), TextNormalization.UNCASED,
                new FeatureSettings(64, Truncation.HEAD, 0.25, Padding.BATCH, true));
        List<String> texts = List.of("A gem.", "Terrible acting, worse plot, and the ending made no sense at all.",
                "I laughed, I cried, I bought the DVD.", "meh", "Not bad for a sequel, but not good either.");
        Featurizer.Batch b = f.featurize(texts);
        assertTrue(b.seqLen() < 64, "padded to the longest text, not to the maximum");
        check(bert, b, b.seqLen());
    }

    /** Runs one batch through TF (the frozen graph) and SameDiff and compares the pooled and sequence outputs. */
    static void check(PretrainedBert.Loaded bert, Featurizer.Batch b, long seqLen) {
        Map<String, INDArray> expected;
        try (TfReference tf = new TfReference(GraphDefs.read(bert.frozenGraph()), bert.descriptor().tensors(), 0)) {
            expected = tf.run(b.inputIds(), b.inputMask(), b.segmentIds());
        }
        SameDiff sd = bert.sd();
        long productsBefore = OneDnnKernels.products();
        long layerNormsBefore = OneDnnKernels.layerNorms();
        long gelusBefore = OneDnnKernels.gelus();
        Map<String, INDArray> actual = sd.output(Map.of(GraphNames.INPUT_IDS, b.inputIds(),
                GraphNames.INPUT_MASK, b.inputMask(), GraphNames.SEGMENT_IDS, b.segmentIds()),
                GraphNames.POOLED, GraphNames.SEQUENCE);
        if (OneDnnKernels.install()) { // the CPU backend
            assertTrue(OneDnnKernels.products() > productsBefore,
                    "the attention's batched products ran on oneDNN (OneDnnKernels)");
            assertTrue(OneDnnKernels.layerNorms() > layerNormsBefore, "LayerNorms ran on oneDNN (OneDnnKernels)");
            assertEquals(12, OneDnnKernels.gelus() - gelusBefore, "each layer's GELU is one op on oneDNN (FusedGelu)");
        }
        INDArray pooled = actual.get(GraphNames.POOLED);
        INDArray sequence = actual.get(GraphNames.SEQUENCE);
        assertArrayEquals(expected.get(GraphNames.POOLED).shape(), pooled.shape());
        assertArrayEquals(expected.get(GraphNames.SEQUENCE).shape(), sequence.shape());
        assertEquals(seqLen, sequence.size(1));
        double pooledDiff = pooled.sub(expected.get(GraphNames.POOLED)).amaxNumber().doubleValue();
        double seqDiff = sequence.sub(expected.get(GraphNames.SEQUENCE)).amaxNumber().doubleValue();
        System.out.printf("parity %s batch %s: max |pooled diff| %.3g, max |sequence diff| %.3g%n",
                bert.descriptor().name(), java.util.Arrays.toString(b.inputIds().shape()), pooledDiff, seqDiff);
        assertTrue(pooledDiff <= POOLED_TOLERANCE, "pooled differs from TensorFlow by " + pooledDiff);
        assertTrue(seqDiff <= SEQUENCE_TOLERANCE, "sequence output differs from TensorFlow by " + seqDiff);
    }
}
