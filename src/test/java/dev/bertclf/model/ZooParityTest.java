package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cased and the multilingual BERT-base, fetched from Maven Central and brought through the same
 * freeze → import → repair path as the default model, compute what the TensorFlow runtime computes on real
 * sentences tokenized as their descriptors say.
 */
@Tag("slow")
class ZooParityTest {
    static final FeatureSettings FEATURES = new FeatureSettings(64, Truncation.HEAD, 0.25, Padding.BATCH, false);

    @Test
    void casedBertMatchesTensorflowOnEnglishWhereCaseMatters() throws Exception {
        PretrainedBert.Loaded bert = RealBert.load("bert-base-cased");
        Featurizer f = new Featurizer(bert.vocab(), bert.descriptor().normalization(), FEATURES);
        List<String> texts = new ArrayList<>(List.of("The US office called us about Apple, not apple pie.",
                "Mr. Brown met DR. WHO in São Paulo; Café Müller was closed."));
        RealBert.reviews(RealBert.IMDB_TEST, 4).forEach(r -> texts.add(r.text()));
        assertTrue(f.tokens(texts.get(0)).contains("US"), "cased: 'US' stays 'US'");
        BertParityTest.check(bert, f.featurize(texts), f.featurize(texts).seqLen());
    }

    @Test
    void multilingualBertMatchesTensorflowOnFrenchGermanChineseArabicAndEmoji() throws Exception {
        PretrainedBert.Loaded bert = RealBert.load("bert-base-multilingual-cased");
        Featurizer f = new Featurizer(bert.vocab(), bert.descriptor().normalization(), FEATURES);
        List<String> texts = new ArrayList<>(RealBert.worldSentences());
        List<LabeledText> reviews = RealBert.reviews(RealBert.FR_DE_REVIEWS, 40);
        texts.add(reviews.get(0).text());
        texts.add(reviews.get(39).text());
        assertEquals(14, texts.size());
        BertParityTest.check(bert, f.featurize(texts), f.featurize(texts).seqLen());
    }
}
