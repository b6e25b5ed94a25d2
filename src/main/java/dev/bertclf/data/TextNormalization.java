package dev.bertclf.data;

/**
 * How a BERT model's tokenizer normalizes text before WordPiece, as its model descriptor declares it (the flags of
 * Google's {@code tokenization.py} and Hugging Face's {@code BertNormalizer}).
 *
 * @param lowerCase    lower-case every character (uncased models)
 * @param stripAccents drop accents: NFD, then remove non-spacing marks (uncased models; cased ones keep "é")
 * @param splitCjk     put spaces around CJK ideographs, so each becomes a word of its own
 */
public record TextNormalization(boolean lowerCase, boolean stripAccents, boolean splitCjk) {
    /** BERT's uncased models: lower-case, accents stripped, CJK split. */
    public static final TextNormalization UNCASED = new TextNormalization(true, true, true);
    /** BERT's cased and multilingual models: case and accents kept, CJK split. */
    public static final TextNormalization CASED = new TextNormalization(false, false, true);
}
