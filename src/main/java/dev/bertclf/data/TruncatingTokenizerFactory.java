package dev.bertclf.data;

import dev.bertclf.config.Truncation;
import org.deeplearning4j.text.tokenization.tokenizer.TokenPreProcess;
import org.deeplearning4j.text.tokenization.tokenizer.Tokenizer;
import org.deeplearning4j.text.tokenization.tokenizerfactory.TokenizerFactory;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Wraps DL4J's WordPiece tokenizer: truncates to {@code maxLength - 2} word pieces with a {@link Truncation}
 * strategy and appends {@code [SEP]}. With {@code BertIterator.prependToken("[CLS]")} this gives BERT's
 * {@code [CLS] tokens [SEP]} input; BertIterator itself appends [SEP] only for sentence pairs.
 */
public final class TruncatingTokenizerFactory implements TokenizerFactory {
    public static final String SEP = "[SEP]";
    private final TokenizerFactory wordPieces;
    private final Truncation truncation;
    private final int budget;
    private final double headFraction;

    public TruncatingTokenizerFactory(TokenizerFactory wordPieces, Truncation truncation, int maxLength,
                                      double headFraction) {
        if (maxLength < 3) {
            throw new IllegalArgumentException("maxLength must be at least 3 ([CLS], a token, [SEP]): " + maxLength);
        }
        this.wordPieces = wordPieces;
        this.truncation = truncation;
        this.budget = maxLength - 2;
        this.headFraction = headFraction;
    }

    @Override
    public Tokenizer create(String text) {
        List<String> tokens = new ArrayList<>(truncation.apply(wordPieces.create(text).getTokens(), budget,
                headFraction));
        tokens.add(SEP);
        return new ListTokenizer(tokens);
    }

    @Override
    public Tokenizer create(InputStream in) {
        try {
            return create(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void setTokenPreProcessor(TokenPreProcess preProcessor) {
        wordPieces.setTokenPreProcessor(preProcessor);
    }

    @Override
    public TokenPreProcess getTokenPreProcessor() {
        return wordPieces.getTokenPreProcessor();
    }
}
