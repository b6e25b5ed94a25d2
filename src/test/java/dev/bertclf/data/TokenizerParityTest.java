package dev.bertclf.data;

import dev.bertclf.RealBert;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Truncation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import dev.bertclf.data.ReferenceTokenizer.HfNormalizer;
import dev.bertclf.model.PretrainedBert;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The product's featurizer gives BERT-base's vocabulary the same word-piece ids as the reference tokenizer
 * (Hugging Face {@code tokenizers}) on real reviews and on hard strings; so does the word-piece tokenizer of every
 * zoo model, set up from its descriptor, on sentences in many languages.
 */
@Tag("slow")
class TokenizerParityTest {
    /** Longest piece list the featurizer keeps at 512 tokens ([CLS] and [SEP] take two). */
    static final int PIECES = 510;
    static final List<String> HARD = List.of(
            "Café crème brûlée, naïve façade; Ångström résumé — déjà vu",
            "我喜欢这部电影。演员很好！日本語のテキストとカタカナ、한국어 영화",
            "Loved it 😍🔥👍🏽!! 10/10 ★★★★★ would watch again 🎬",
            "“Great” ‘film’ — isn't it… «magnifique» „gut“ ¿Qué? ¡Sí!",
            "a".repeat(150) + " " + "supercalifragilistic".repeat(8) + " ok",
            "bad\u0000 \u0007movie\u200b\ufeff with\ttabs\nand\r\nbreaks\u00a0nbsp\u2028sep",
            "ΟΔΥΣΣΕΥΣ İstanbul straße ﬁlm ＦＵＬＬＷＩＤＴＨ ½ ™ © ° § ¶",
            "مرحبا بالعالم فيلم رائع",
            "well-made, U.S.A.-based (1999) [director's cut] {sic} <br /> #1 @home 50% $5 & more_stuff",
            "e\u0301 n\u0303 combining marks and \ud83d\ude00 surrogate pairs and \ufffd replacement");
    @TempDir
    static Path tmp;
    static ReferenceTokenizer reference;
    static Featurizer featurizer;
    static Map<String, Integer> vocab;

    @BeforeAll
    static void load() throws Exception {
        Path vocabFile = RealBert.load().vocab();
        reference = new ReferenceTokenizer(vocabFile, HfNormalizer.BERT_BASE_UNCASED, tmp);
        featurizer = new Featurizer(vocabFile, RealBert.descriptor().normalization(),
                new FeatureSettings(PIECES + 2, Truncation.HEAD, 0.5, Padding.BATCH, false));
        vocab = BertWordPieceTokenizer.readVocab(vocabFile);
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    static List<Long> ours(String text) {
        List<String> t = featurizer.tokens(text);
        return ReferenceTokenizer.ids(t.subList(1, t.size() - 1), vocab);
    }

    static List<Long> theirs(String text) {
        List<Long> ids = reference.ids(text);
        return ids.subList(0, Math.min(PIECES, ids.size()));
    }

    @Test
    void hardStringsGetTheReferenceIds() {
        for (String text : HARD) {
            assertEquals(theirs(text), ours(text), () -> "text: " + text + "\nreference: "
                    + reference.tokens(text) + "\nours: " + featurizer.tokens(text));
        }
    }

    @Test
    void dl4jsWordPieceTokenizerWhichTheProductReplacedDiffersOnHardStrings() throws Exception {
        var dl4j = new org.deeplearning4j.text.tokenization.tokenizerfactory.BertWordPieceTokenizerFactory(
                RealBert.load().vocab().toFile(), true, true, java.nio.charset.StandardCharsets.UTF_8);
        long differ = HARD.stream().filter(t -> !theirs(t).equals(ReferenceTokenizer.ids(dl4j.create(t).getTokens(),
                vocab))).count();
        assertEquals(true, differ >= 3, "this test can fail: DL4J's tokenizer differs on " + differ + " hard strings");
    }

    static Stream<Arguments> zooModels() {
        return Stream.of(Arguments.of("bert-base-uncased", HfNormalizer.BERT_BASE_UNCASED),
                Arguments.of("bert-base-cased", HfNormalizer.BERT_BASE_CASED),
                Arguments.of("bert-base-multilingual-cased", HfNormalizer.BERT_BASE_MULTILINGUAL_CASED));
    }

    /** French, German, Chinese, Arabic and more, emoji, the hard strings and 40 French and German reviews. */
    static List<String> manyLanguages() throws Exception {
        List<String> texts = new ArrayList<>(RealBert.worldSentences());
        texts.addAll(HARD);
        RealBert.reviews(RealBert.FR_DE_REVIEWS, 40).forEach(r -> texts.add(r.text()));
        return texts;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zooModels")
    void everyZooModelGetsTheReferenceIdsInManyLanguages(String model, HfNormalizer published) throws Exception {
        Path vocabFile = RealBert.cached(model).resolve(PretrainedBert.VOCAB_FILE);
        Map<String, Integer> modelVocab = BertWordPieceTokenizer.readVocab(vocabFile);
        TextNormalization declared = RealBert.descriptor(model).normalization();
        BertWordPieceTokenizer ours = new BertWordPieceTokenizer(modelVocab, declared);
        TextNormalization other = declared.lowerCase() ? TextNormalization.CASED : TextNormalization.UNCASED;
        BertWordPieceTokenizer otherCasing = new BertWordPieceTokenizer(modelVocab, other);
        int otherDiffers = 0;
        try (ReferenceTokenizer ref = new ReferenceTokenizer(vocabFile, published, tmp)) {
            for (String text : manyLanguages()) {
                List<Long> expected = ref.ids(text);
                assertEquals(expected, ReferenceTokenizer.ids(ours.wordPieces(text), modelVocab),
                        () -> model + ", text: " + text + "\nreference: " + ref.tokens(text) + "\nours: "
                                + ours.wordPieces(text));
                if (!expected.equals(ReferenceTokenizer.ids(otherCasing.wordPieces(text), modelVocab))) {
                    otherDiffers++;
                }
            }
        }
        assertTrue(otherDiffers >= 10, "this test can fail: the other casing differs on " + otherDiffers + " texts");
    }

    /** Our spans, in the reference's unit: Unicode code points (Hugging Face's character offsets). */
    static List<List<Integer>> spansInCodePoints(String text, List<BertWordPieceTokenizer.Piece> pieces) {
        return pieces.stream().map(p -> List.of(text.codePointCount(0, p.start()), text.codePointCount(0, p.end())))
                .toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zooModels")
    void everyWordPieceSpansTheCharactersTheReferenceSaysOnAccentsCjkEmojiAndUnknownWords(String model,
                                                                                     HfNormalizer published)
            throws Exception {
        Path vocabFile = RealBert.cached(model).resolve(PretrainedBert.VOCAB_FILE);
        BertWordPieceTokenizer ours = new BertWordPieceTokenizer(BertWordPieceTokenizer.readVocab(vocabFile),
                RealBert.descriptor(model).normalization());
        int unknown = 0;
        try (ReferenceTokenizer ref = new ReferenceTokenizer(vocabFile, published, tmp)) {
            for (String text : manyLanguages()) {
                List<BertWordPieceTokenizer.Piece> pieces = ours.pieces(text);
                assertEquals(ref.spans(text), spansInCodePoints(text, pieces), () -> model + ", text: " + text
                        + "\nreference: " + ref.tokens(text) + "\nours: " + pieces);
                unknown += (int) pieces.stream().filter(p -> p.token().equals(BertWordPieceTokenizer.UNK)).count();
            }
        }
        assertTrue(unknown > 0, "the texts hold words read as [UNK]");
    }

    @Test
    void theFeaturizersPiecesAreTheTokensItFeedsWithSpansIntoTheOriginalText() throws Exception {
        Featurizer truncating = new Featurizer(RealBert.load().vocab(), RealBert.descriptor().normalization(),
                new FeatureSettings(64, Truncation.HEAD_TAIL, 0.25, Padding.BATCH, true));
        List<String> texts = new ArrayList<>(RealBert.reviews(RealBert.IMDB_TEST, 10).stream()
                .map(LabeledText::text).toList());
        texts.add("Great<br /><br />film, <BR/>really. Café 😍 电影");
        for (String text : texts) {
            List<BertWordPieceTokenizer.Piece> pieces = truncating.pieces(text);
            assertEquals(truncating.tokens(text), pieces.stream().map(BertWordPieceTokenizer.Piece::token).toList());
            for (BertWordPieceTokenizer.Piece p : pieces.subList(1, pieces.size() - 1)) {
                String covered = text.substring(p.start(), p.end());
                String piece = p.token().replace("##", "");
                assertTrue(p.token().equals(BertWordPieceTokenizer.UNK)
                                || java.text.Normalizer.normalize(covered.toLowerCase(), java.text.Normalizer.Form.NFD)
                                .replaceAll("\\p{Mn}", "").equals(piece),
                        () -> p + " covers '" + covered + "' in: " + text);
            }
        }
        assertEquals("film", texts.get(texts.size() - 1).substring(truncating.pieces(texts.get(texts.size() - 1))
                .get(2).start(), truncating.pieces(texts.get(texts.size() - 1)).get(2).end()));
    }

    @Test
    void realReviewsGetTheReferenceIds() throws Exception {
        List<LabeledText> reviews = new ArrayList<>(RealBert.reviews(RealBert.IMDB_TRAIN, 1000));
        reviews.addAll(RealBert.reviews(RealBert.IMDB_TEST, 1000));
        assertEquals(100, reviews.size());
        for (LabeledText r : reviews) {
            assertEquals(theirs(r.text()), ours(r.text()), () -> "review at line " + r.line());
        }
    }
}
