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

    /** The word pieces of a text, without [CLS] and [SEP]. */
    public List<String> wordPieces(String text) {
        List<String> out = new ArrayList<>();
        for (String word : words(text)) {
            wordPiece(word, out);
        }
        return out;
    }

    /** Steps 1-4: the whitespace- and punctuation-separated words of a text. */
    List<String> words(String text) {
        StringBuilder normal = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                return;
            }
            if (isWhitespace(c)) {
                normal.append(' ');
            } else if (normalization.splitCjk() && isCjk(c)) {
                normal.append(' ').appendCodePoint(c).append(' ');
            } else {
                normal.appendCodePoint(c);
            }
        });
        String s = normal.toString();
        if (normalization.stripAccents()) {
            s = stripAccents(s);
        }
        if (normalization.lowerCase()) {
            s = lowerCase(s);
        }
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (isWhitespace(c) || isPunctuation(c)) {
                if (!word.isEmpty()) {
                    words.add(word.toString());
                    word.setLength(0);
                }
                if (isPunctuation(c)) {
                    words.add(new String(Character.toChars(c)));
                }
            } else {
                word.appendCodePoint(c);
            }
        });
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        return words;
    }

    /** Step 5: greedy longest-match-first WordPiece of one word. */
    private void wordPiece(String word, List<String> out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > MAX_WORD_CHARS) {
            out.add(UNK);
            return;
        }
        List<String> pieces = new ArrayList<>();
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
                out.add(UNK);
                return;
            }
            pieces.add(match);
            start = end;
        }
        out.addAll(pieces);
    }

    /** Character by character, as the reference does (so a final Σ becomes σ, not ς). */
    private static String lowerCase(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().map(Character::toLowerCase).forEach(b::appendCodePoint);
        return b.toString();
    }

    private static String stripAccents(String s) {
        String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
        StringBuilder b = new StringBuilder(nfd.length());
        nfd.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(b::appendCodePoint);
        return b.toString();
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
