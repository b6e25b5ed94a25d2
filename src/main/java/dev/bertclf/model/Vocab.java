package dev.bertclf.model;

import org.nd4j.autodiff.samediff.SameDiff;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Checks on a WordPiece vocabulary file (one token per line, line number = id). */
public final class Vocab {
    /** Tokens every BERT vocabulary must have. */
    public static final List<String> SPECIAL_TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]");

    private Vocab() {
    }

    /** Reads the tokens, failing with the file name when it is missing, not UTF-8 or lacks a special token. */
    public static List<String> read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelException("Vocabulary file not found: " + file.toAbsolutePath());
        }
        List<String> tokens;
        try {
            tokens = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            throw new ModelException("Vocabulary file " + file.toAbsolutePath() + " is not UTF-8 text");
        } catch (IOException e) {
            throw new ModelException("Cannot read vocabulary file " + file.toAbsolutePath() + ": " + e.getMessage());
        }
        for (String t : SPECIAL_TOKENS) {
            if (!tokens.contains(t)) {
                throw new ModelException("Vocabulary file " + file.toAbsolutePath() + " has no " + t
                        + " token: not a BERT WordPiece vocabulary");
            }
        }
        return tokens;
    }

    /** Fails when the descriptor declares a vocabulary size other than the file's, naming both. */
    public static void checkDeclaredSize(List<String> tokens, Path file, ModelDescriptor d) {
        if (d.vocabSize() > 0 && d.vocabSize() != tokens.size()) {
            throw new ModelException("Model descriptor " + d.name() + " declares vocab-size = " + d.vocabSize()
                    + " but its vocabulary file " + file.toAbsolutePath() + " has " + tokens.size() + " tokens");
        }
    }

    /** Fails when the vocabulary size differs from the word-embedding rows of the graph. */
    public static void checkMatches(List<String> tokens, Path file, SameDiff sd, String wordEmbeddings) {
        long rows = PretrainedBert.embeddingRows(sd, wordEmbeddings);
        if (rows < 0) {
            throw new ModelException("Graph has no word-embedding tensor '" + wordEmbeddings
                    + "' (descriptor tensors.word-embeddings)");
        }
        if (rows != tokens.size()) {
            throw new ModelException("Vocabulary file " + file.toAbsolutePath() + " has " + tokens.size()
                    + " tokens but the model's word embeddings '" + wordEmbeddings + "' have " + rows
                    + " rows: the vocabulary does not belong to this model");
        }
    }
}
