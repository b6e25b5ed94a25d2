package dev.bertclf.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference: Hugging Face {@code tokenizers} (Rust, through DJL) set up as BERT's tokenizer
 * ({@code BertNormalizer}, {@code BertPreTokenizer}, {@code WordPiece} with a 100-character cap) over the same
 * {@code vocab.txt}, no special tokens added.
 */
final class ReferenceTokenizer implements AutoCloseable {
    /**
     * A {@code BertNormalizer}'s flags as Hugging Face publishes them for a model (its {@code tokenizer_config.json}),
     * written here by hand so that they do not come from the product's descriptors.
     *
     * @param stripAccents null: as {@code lowercase}
     */
    record HfNormalizer(boolean lowercase, Boolean stripAccents, boolean handleChineseChars) {
        /** {@code bert-base-uncased}: do_lower_case true. */
        static final HfNormalizer BERT_BASE_UNCASED = new HfNormalizer(true, null, true);
        /** {@code bert-base-cased}: do_lower_case false. */
        static final HfNormalizer BERT_BASE_CASED = new HfNormalizer(false, null, true);
        /** {@code bert-base-multilingual-cased}: do_lower_case false, tokenize_chinese_chars true. */
        static final HfNormalizer BERT_BASE_MULTILINGUAL_CASED = new HfNormalizer(false, null, true);
    }

    private final HuggingFaceTokenizer hf;

    ReferenceTokenizer(Path vocabFile, HfNormalizer flags, Path workDir) throws IOException {
        Map<String, Object> normalizer = new LinkedHashMap<>();
        normalizer.put("type", "BertNormalizer");
        normalizer.put("clean_text", true);
        normalizer.put("handle_chinese_chars", flags.handleChineseChars());
        normalizer.put("strip_accents", flags.stripAccents());
        normalizer.put("lowercase", flags.lowercase());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordPiece");
        model.put("unk_token", "[UNK]");
        model.put("continuing_subword_prefix", "##");
        model.put("max_input_chars_per_word", 100);
        model.put("vocab", BertWordPieceTokenizer.readVocab(vocabFile));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1.0");
        json.put("truncation", null);
        json.put("padding", null);
        json.put("added_tokens", List.of());
        json.put("normalizer", normalizer);
        json.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        json.put("post_processor", null);
        json.put("decoder", null);
        json.put("model", model);
        Path file = Files.createTempFile(workDir, "tokenizer", ".json");
        new ObjectMapper().writeValue(file.toFile(), json);
        hf = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false)
                .optTruncation(false).build();
    }

    /** Word-piece ids of a text, no [CLS]/[SEP]. */
    List<Long> ids(String text) {
        return Arrays.stream(hf.encode(text, false, false).getIds()).boxed().toList();
    }

    List<String> tokens(String text) {
        return List.of(hf.encode(text, false, false).getTokens());
    }

    /** Each word piece's character span {@code [start, end)} in the text, as Hugging Face reports it. */
    List<List<Integer>> spans(String text) {
        List<List<Integer>> out = new ArrayList<>();
        for (var span : hf.encode(text, false, false).getCharTokenSpans()) {
            out.add(List.of(span.getStart(), span.getEnd()));
        }
        return out;
    }

    /** Ids of a token list in a vocabulary. */
    static List<Long> ids(List<String> tokens, Map<String, Integer> vocab) {
        List<Long> out = new ArrayList<>(tokens.size());
        for (String t : tokens) {
            out.add((long) vocab.get(t));
        }
        return out;
    }

    @Override
    public void close() {
        hf.close();
    }
}
