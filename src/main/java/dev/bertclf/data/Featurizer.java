package dev.bertclf.data;

import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Truncation;
import org.deeplearning4j.iterator.BertIterator;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Raw text → BERT features with BERT's WordPiece tokenization ({@link BertWordPieceTokenizer}) and DL4J's
 * {@link BertIterator}:
 * {@code [CLS] word-pieces [SEP]}, truncated by a {@link Truncation} strategy, padded per batch or to a fixed length.
 */
public final class Featurizer {
    public static final String CLS = "[CLS]";
    private static final Pattern HTML_BREAK = Pattern.compile("<br\\s*/?>", Pattern.CASE_INSENSITIVE);

    /** Features of one batch, int32 {@code [batch, seqLen]} each. */
    public record Batch(INDArray inputIds, INDArray inputMask, INDArray segmentIds) {
        public long seqLen() {
            return inputIds.size(1);
        }
    }

    private final FeatureSettings settings;
    private final BertWordPieceTokenizer wordPieces;
    private final TruncatingTokenizerFactory tokenizer;
    private final Map<String, Integer> vocab;

    public Featurizer(Path vocabFile, TextNormalization normalization, FeatureSettings settings) {
        this.settings = settings;
        this.wordPieces = new BertWordPieceTokenizer(BertWordPieceTokenizer.readVocab(vocabFile), normalization);
        this.vocab = wordPieces.vocab();
        this.tokenizer = new TruncatingTokenizerFactory(wordPieces, settings.truncation(), settings.maxLength(),
                settings.headFraction());
    }

    public FeatureSettings settings() {
        return settings;
    }

    /**
     * The text as the model sees it before tokenization: HTML line breaks become as many spaces as they had
     * characters, so that every character keeps its place (the spans of {@link #pieces} index the original text).
     */
    public String clean(String text) {
        return settings.stripHtmlBreaks()
                ? HTML_BREAK.matcher(text).replaceAll(m -> " ".repeat(m.group().length())) : text;
    }

    /**
     * The word pieces of one text as fed to the model, [CLS] and [SEP] included (with an empty span at the text's
     * start and end and word -1), after truncation, each with its span in {@code text} and its word's index.
     */
    public List<BertWordPieceTokenizer.Piece> pieces(String text) {
        List<BertWordPieceTokenizer.Piece> kept = settings.truncation().apply(wordPieces.pieces(clean(text)),
                settings.maxLength() - 2, settings.headFraction());
        List<BertWordPieceTokenizer.Piece> out = new ArrayList<>(kept.size() + 2);
        out.add(new BertWordPieceTokenizer.Piece(CLS, 0, 0, -1));
        out.addAll(kept);
        out.add(new BertWordPieceTokenizer.Piece(TruncatingTokenizerFactory.SEP, text.length(), text.length(), -1));
        return out;
    }

    /** The vocabulary's id of a token (a word piece or a special token such as {@code [PAD]}). */
    public int id(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("the vocabulary has no '" + token + "'");
        }
        return id;
    }

    /** Word pieces of one text as fed to the model, [CLS] and [SEP] included. */
    public List<String> tokens(String text) {
        List<String> t = new ArrayList<>();
        t.add(CLS);
        t.addAll(tokenizer.create(clean(text)).getTokens());
        return t;
    }

    /**
     * A labelled iterator in list order: features {@code [input_ids, segment_ids]}, feature masks
     * {@code [input_mask, null]}, one-hot labels {@code [batch, labels.size()]} indexed as in {@code labels}.
     */
    public BertIterator iterator(List<LabeledText> examples, List<String> labels, int batchSize,
                                 MultiDataSetPreProcessor preProcessor) {
        return iterator(examples, labels, batchSize, preProcessor, false);
    }

    /** The same; {@code multiHot}: labels {@code [batch, labels.size()]} with a 1 for each of a text's labels. */
    public BertIterator iterator(List<LabeledText> examples, List<String> labels, int batchSize,
                                 MultiDataSetPreProcessor preProcessor, boolean multiHot) {
        List<LabeledText> cleaned = new ArrayList<>(examples.size());
        for (LabeledText e : examples) {
            cleaned.add(new LabeledText(clean(e.text()), e.labels(), e.line()));
        }
        OrderedSentenceProvider provider = new OrderedSentenceProvider(cleaned, labels);
        return builder(settings.fixedLength())
                .minibatchSize(batchSize)
                .sentenceProvider(provider)
                .preProcessor(multiHot ? new MultiHotLabels(provider, labels, preProcessor) : preProcessor)
                .build();
    }

    /** Features for unlabelled texts, padded to the longest text of this batch (at most {@code maxLength}). */
    public Batch featurize(List<String> texts) {
        return featurize(texts, false);
    }

    /** Features for unlabelled texts; {@code fixedLength} pads to {@code maxLength}. */
    public Batch featurize(List<String> texts, boolean fixedLength) {
        List<String> cleaned = texts.stream().map(this::clean).toList();
        Pair<INDArray[], INDArray[]> f = builder(fixedLength).build().featurizeSentences(cleaned);
        return new Batch(f.getFirst()[0], f.getSecond()[0], f.getFirst()[1]);
    }

    private BertIterator.Builder builder(boolean fixedLength) {
        return BertIterator.builder()
                .tokenizer(tokenizer)
                .vocabMap(vocab)
                .prependToken(CLS)
                .lengthHandling(fixedLength ? BertIterator.LengthHandling.FIXED_LENGTH
                        : BertIterator.LengthHandling.CLIP_ONLY, settings.maxLength())
                .featureArrays(BertIterator.FeatureArrays.INDICES_MASK_SEGMENTID)
                .task(BertIterator.Task.SEQ_CLASSIFICATION);
    }
}
