package dev.bertclf.data;

import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.LongText;
import dev.bertclf.config.Settings.WindowSettings;
import dev.bertclf.config.Truncation;
import org.deeplearning4j.iterator.BertIterator;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * Raw text → BERT features with BERT's WordPiece tokenization ({@link BertWordPieceTokenizer}) and DL4J's
 * {@link BertIterator}:
 * {@code [CLS] word-pieces [SEP]}, truncated by a {@link Truncation} strategy, padded per batch or to a fixed length.
 */
public final class Featurizer {
    public static final String CLS = "[CLS]";
    private static final Pattern HTML_BREAK = Pattern.compile("<br\\s*/?>", Pattern.CASE_INSENSITIVE);

    /**
     * Features of one batch, int32 {@code [rows, seqLen]} each. A row is a text, or one window of a text read in
     * windows: {@code textOfRow[r]} is the index of row {@code r}'s text among the texts featurized, ascending.
     */
    public record Batch(INDArray inputIds, INDArray inputMask, INDArray segmentIds, int[] textOfRow) {
        /** One row per text. */
        public Batch(INDArray inputIds, INDArray inputMask, INDArray segmentIds) {
            this(inputIds, inputMask, segmentIds, IntStream.range(0, (int) inputIds.size(0)).toArray());
        }

        public long seqLen() {
            return inputIds.size(1);
        }

        public int rows() {
            return textOfRow.length;
        }

        /** How many texts the rows are of. */
        public int texts() {
            return textOfRow.length == 0 ? 0 : textOfRow[textOfRow.length - 1] + 1;
        }

        /** Rows {@code [from, to)}, their text indices unchanged. */
        public Batch rows(int from, int to) {
            if (from == 0 && to == rows()) {
                return this;
            }
            INDArrayIndex r = NDArrayIndex.interval(from, to);
            return new Batch(inputIds.get(r, NDArrayIndex.all()).dup(), inputMask.get(r, NDArrayIndex.all()).dup(),
                    segmentIds.get(r, NDArrayIndex.all()).dup(), Arrays.copyOfRange(textOfRow, from, to));
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

    /**
     * Features for unlabelled texts; {@code fixedLength} pads to {@code maxLength} (to the window's length when texts
     * are read in windows: then each text is as many rows as it has windows).
     */
    public Batch featurize(List<String> texts, boolean fixedLength) {
        if (settings.longText() == LongText.WINDOWS) {
            return windows(texts, fixedLength);
        }
        List<String> cleaned = texts.stream().map(this::clean).toList();
        Pair<INDArray[], INDArray[]> f = builder(fixedLength).build().featurizeSentences(cleaned);
        return new Batch(f.getFirst()[0], f.getSecond()[0], f.getFirst()[1]);
    }

    /**
     * Each text's windows ({@code features.long-text = windows}): after cutting by {@code features.truncation} to what
     * {@code max-windows} windows cover, {@code [CLS] pieces [SEP]} windows of at most {@code window} word pieces,
     * starting every {@code stride} word pieces, the last ending at the text's end; a text that fits one window is one
     * row, as {@link #featurize} without windows would make it.
     */
    private Batch windows(List<String> texts, boolean fixedLength) {
        WindowSettings w = settings.windows();
        List<int[]> rows = new ArrayList<>();
        List<Integer> textOfRow = new ArrayList<>();
        int cls = id(CLS);
        int sep = id(TruncatingTokenizerFactory.SEP);
        for (int t = 0; t < texts.size(); t++) {
            List<BertWordPieceTokenizer.Piece> pieces = settings.truncation().apply(
                    wordPieces.pieces(clean(texts.get(t))), w.coverage(), settings.headFraction());
            int n = pieces.size();
            for (int start : windowStarts(n, w)) {
                List<BertWordPieceTokenizer.Piece> body = pieces.subList(start, Math.min(n, start + w.body()));
                int[] ids = new int[body.size() + 2];
                ids[0] = cls;
                for (int i = 0; i < body.size(); i++) {
                    ids[i + 1] = id(body.get(i).token());
                }
                ids[ids.length - 1] = sep;
                rows.add(ids);
                textOfRow.add(t);
            }
        }
        int seqLen = fixedLength ? w.length() : rows.stream().mapToInt(r -> r.length).max().orElse(2);
        int[][] idMatrix = new int[rows.size()][seqLen];
        int[][] mask = new int[rows.size()][seqLen];
        for (int r = 0; r < rows.size(); r++) {
            System.arraycopy(rows.get(r), 0, idMatrix[r], 0, rows.get(r).length);
            Arrays.fill(mask[r], 0, rows.get(r).length, 1);
        }
        return new Batch(Nd4j.createFromArray(idMatrix), Nd4j.createFromArray(mask),
                Nd4j.create(DataType.INT32, rows.size(), seqLen),
                textOfRow.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Where the windows over {@code n} word pieces start: every {@code stride} pieces while the window does not reach
     * the end, then one window ending at the end (so no window is shorter than the others and none is wasted).
     */
    static int[] windowStarts(int n, WindowSettings w) {
        if (n <= w.body()) {
            return new int[]{0};
        }
        List<Integer> starts = new ArrayList<>();
        for (int start = 0; start + w.body() < n; start += w.stride()) {
            starts.add(start);
        }
        starts.add(n - w.body());
        return starts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** How many windows a text is read in (1 unless {@code features.long-text = windows}). */
    public int windowCount(String text) {
        if (settings.longText() != LongText.WINDOWS) {
            return 1;
        }
        WindowSettings w = settings.windows();
        return windowStarts(Math.min(w.coverage(), wordPieces.pieces(clean(text)).size()), w).length;
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
