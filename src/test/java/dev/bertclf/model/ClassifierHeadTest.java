package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The head on the real BERT-base graph: which weights train, and the truncated-encoder pooled output. */
@Tag("slow")
class ClassifierHeadTest {
    @Test
    void frozenLayersAndEmbeddingsDoNotTrain() {
        ModelDescriptor d = RealBert.descriptor();
        SameDiff sd = PretrainedBert.load(d, RealBert.CACHE).sd();
        List<String> trainable = ClassifierHead.attach(sd, d, 3, 12, 6, 0.1, 1, null);
        assertEquals(6 * 16 + 2 + 2, trainable.size(), "16 weights per layer 6-11, pooler kernel+bias, head");
        assertTrue(trainable.stream().noneMatch(n -> n.contains("/embeddings/")));
        assertTrue(trainable.stream().noneMatch(n -> n.matches(".*/layer_[0-5]/.*")));
        assertTrue(trainable.contains(GraphNames.HEAD_KERNEL));
        assertEquals(List.of(768L, 3L), List.of(sd.getVariable(GraphNames.HEAD_KERNEL).getArr().shape()[0],
                sd.getVariable(GraphNames.HEAD_KERNEL).getArr().shape()[1]));
    }

    @Test
    void truncatedEncoderTrainsOnlyKeptLayersAndAllOfTheirEmbeddings() {
        ModelDescriptor d = RealBert.descriptor();
        SameDiff sd = PretrainedBert.load(d, RealBert.CACHE).sd();
        List<String> trainable = ClassifierHead.attach(sd, d, 2, 4, 0, 0, 1, null);
        assertTrue(trainable.stream().noneMatch(n -> n.matches(".*/layer_([4-9]|1[01])/.*")), "unused layers");
        assertTrue(trainable.stream().anyMatch(n -> n.contains("/embeddings/LayerNorm")), "embeddings train");
        assertTrue(trainable.stream().noneMatch(n -> n.endsWith("word_embeddings")), "word embeddings never");
    }

    @Test
    void truncatedPooledOfAllLayersEqualsThePooledOutput() {
        ModelDescriptor d = RealBert.descriptor();
        PretrainedBert.Loaded bert = PretrainedBert.load(d, RealBert.CACHE);
        SameDiff sd = bert.sd();
        ClassifierHead.truncatedPooled(sd, d, 12);
        Featurizer f = new Featurizer(bert.vocab(), TextNormalization.UNCASED,
                new FeatureSettings(32, Truncation.HEAD, 0.25, Padding.BATCH, true));
        Featurizer.Batch b = f.featurize(List.of("A short review.", "Another, somewhat longer review of a film."));
        Map<String, INDArray> out = sd.output(Map.of(GraphNames.INPUT_IDS, b.inputIds(),
                GraphNames.INPUT_MASK, b.inputMask(), GraphNames.SEGMENT_IDS, b.segmentIds()),
                GraphNames.POOLED, ClassifierHead.TRUNCATED_POOLED);
        assertEquals(0, out.get(GraphNames.POOLED).sub(out.get(ClassifierHead.TRUNCATED_POOLED))
                .amaxNumber().doubleValue(), 1e-6);
    }
}
