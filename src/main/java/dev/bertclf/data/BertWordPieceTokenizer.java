package dev.bertclf.data;

import org.deeplearning4j.text.tokenization.tokenizer.TokenPreProcess;
import org.deeplearning4j.text.tokenization.tokenizer.Tokenizer;
import org.deeplearning4j.text.tokenization.tokenizerfactory.TokenizerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT's own tokenization (Google's {@code tokenization.py}, as Hugging Face's {@code BertNormalizer},
 * {@code BertPreTokenizer} and {@code WordPiece} do it), as a DL4J {@link TokenizerFactory} that
 * {@code BertIterator} drives:
 * <ol>
 *   <li>clean: drop NUL, U+FFFD and control characters; any whitespace becomes a space;</li>
 *   <li>put spaces around CJK ideographs (unless the model says not to);</li>
 *   <li>strip accents (NFD, drop non-spacing marks) and lower-case, as the model's {@link TextNormalization}
 *       says: uncased models do both, cased and multilingual ones neither;</li>
 *   <li>split on whitespace and around every punctuation character (ASCII and Unicode {@code P*});</li>
 *   <li>WordPiece: greedy longest match with {@code ##} continuations; a word with no match, or longer than
 *       100 characters, becomes {@code [UNK]}.</li>
 * </ol>
 * DL4J's {@code BertWordPieceTokenizerFactory} differs: it keeps non-ASCII punctuation inside words, drops
 * unknown characters instead of emitting {@code [UNK]}, and has no word-length cap.
 */
public final class BertWordPieceTokenizer implements TokenizerFactory {
    public static final String UNK = "[UNK]";
    static final int MAX_WORD_CHARS = 100;
    private final Map<String, Integer> vocab;
    private final TextNormalization normalization;

    public BertWordPieceTokenizer(Map<String, Integer> vocab, TextNormalization normalization) {
        this.vocab = vocab;
        this.normalization = normalization;
    }

    /** Token → id of a vocabulary file: one token per line, the line number (from 0) is the id. */
    public static Map<String, Integer> readVocab(Path file) {
        try {
            Map<String, Integer> vocab = new LinkedHashMap<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                vocab.putIfAbsent(line.strip(), vocab.size());
            }
            return Collections.unmodifiableMap(vocab);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read vocabulary " + file.toAbsolutePath(), e);
        }
    }

    public Map<String, Integer> vocab() {
        return vocab;
    }

    /**
     * A word piece and the characters of the original text it was read from, {@code text.substring(start, end)}
     * (UTF-16 indices, as Java and JavaScript count them): an accented letter whose accent was stripped, or a word
     * read as {@code [UNK]}, still spans its characters as written. {@code word} numbers the text's words from 0;
     * the pieces of one word share it.
     */
    public record Piece(String token, int start, int end, int word) {
    }

    /** The word pieces of a text, without [CLS] and [SEP]. */
    public List<String> wordPieces(String text) {
        return pieces(text).stream().map(Piece::token).toList();
    }

    /** The word pieces of a text with their spans in it, without [CLS] and [SEP]. */
    public List<Piece> pieces(String text) {
        List<Piece> out = new ArrayList<>();
        List<Word> words = words(text);
        for (int w = 0; w < words.size(); w++) {
            wordPiece(words.get(w), w, out);
        }
        return out;
    }

    /**
     * A word after normalization, as code points, each with the span of the original character it came from (a
     * character whose normalization gives several code points gives each the same span).
     */
    record Word(int[] codePoints, int[] starts, int[] ends) {
        String text() {
            return new String(codePoints, 0, codePoints.length);
        }
    }

    /**
     * Steps 1-4: the whitespace- and punctuation-separated words of a text. Each character is normalized on its own
     * (accents stripped by NFD and dropping non-spacing marks, then lower-cased), which is what normalizing the
     * whole text does once the marks are dropped, and lets every code point keep the span it came from.
     */
    List<Word> words(String text) {
        List<Word> words = new ArrayList<>();
        WordBuilder word = new WordBuilder();
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            int end = i + Character.charCount(c);
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                i = end;
                continue;
            }
            if (isWhitespace(c)) {
                word.endInto(words);
            } else if (normalization.splitCjk() && isCjk(c)) {
                word.endInto(words);
                word.add(c, i, end);
                word.endInto(words);
            } else {
                for (int n : normalized(c)) {
                    if (isWhitespace(n)) {
                        word.endInto(words);
                    } else if (isPunctuation(n)) {
                        word.endInto(words);
                        word.add(n, i, end);
                        word.endInto(words);
                    } else {
                        word.add(n, i, end);
                    }
                }
            }
            i = end;
        }
        word.endInto(words);
        return words;
    }

    /** One character's code points after accent stripping and lower-casing, as the model's normalization says. */
    private int[] normalized(int c) {
        int[] cps = {c};
        if (normalization.stripAccents()) {
            cps = Normalizer.normalize(new String(cps, 0, 1), Normalizer.Form.NFD).codePoints()
                    .filter(n -> Character.getType(n) != Character.NON_SPACING_MARK).toArray();
        }
        if (normalization.lowerCase()) {
            // Character by character, as the reference does (so a final Σ becomes σ, not ς).
            for (int k = 0; k < cps.length; k++) {
                cps[k] = Character.toLowerCase(cps[k]);
            }
        }
        return cps;
    }

    private static final class WordBuilder {
        private final List<int[]> cps = new ArrayList<>();

        void add(int codePoint, int start, int end) {
            cps.add(new int[]{codePoint, start, end});
        }

        void endInto(List<Word> words) {
            if (cps.isEmpty()) {
                return;
            }
            int n = cps.size();
            int[] c = new int[n];
            int[] s = new int[n];
            int[] e = new int[n];
            for (int k = 0; k < n; k++) {
                c[k] = cps.get(k)[0];
                s[k] = cps.get(k)[1];
                e[k] = cps.get(k)[2];
            }
            words.add(new Word(c, s, e));
            cps.clear();
        }
    }

    /** Step 5: greedy longest-match-first WordPiece of one word. */
    private void wordPiece(Word word, int index, List<Piece> out) {
        int[] cps = word.codePoints();
        int last = cps.length - 1;
        if (cps.length > MAX_WORD_CHARS) {
            out.add(new Piece(UNK, word.starts()[0], word.ends()[last], index));
            return;
        }
        List<Piece> pieces = new ArrayList<>();
        for (int start = 0; start < cps.length; ) {
            String match = null;
            int end = cps.length;
            for (; end > start; end--) {
                String piece = (start > 0 ? "##" : "") + new String(cps, start, end - start);
                if (vocab.containsKey(piece)) {
                    match = piece;
                    break;
                }
            }
            if (match == null) {
                out.add(new Piece(UNK, word.starts()[0], word.ends()[last], index));
                return;
            }
            pieces.add(new Piece(match, word.starts()[start], word.ends()[end - 1], index));
            start = end;
        }
        out.addAll(pieces);
    }

    static boolean isWhitespace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || Character.isSpaceChar(c);
    }

    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.SURROGATE
                || t == Character.PRIVATE_USE || t == Character.UNASSIGNED;
    }

    static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
            return true;
        }
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                    Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** CJK Unified Ideographs and their extensions and compatibility blocks (not Hangul, Hiragana, Katakana). */
    static boolean isCjk(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    @Override
    public Tokenizer create(String text) {
        return new ListTokenizer(wordPieces(text));
    }

    @Override
    public Tokenizer create(InputStream in) {
        try {
            return create(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tokens are final word pieces: a pre-processor would change them behind the vocabulary's back. */
    @Override
    public void setTokenPreProcessor(TokenPreProcess preProcessor) {
        throw new UnsupportedOperationException("BERT word pieces take no token pre-processor");
    }

    @Override
    public TokenPreProcess getTokenPreProcessor() {
        return null;
    }
}
