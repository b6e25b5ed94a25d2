package dev.bertclf.data;

import org.deeplearning4j.text.tokenization.tokenizer.TokenPreProcess;
import org.deeplearning4j.text.tokenization.tokenizer.Tokenizer;

import java.util.List;

/** A tokenizer over an already computed token list. */
final class ListTokenizer implements Tokenizer {
    private final List<String> tokens;
    private int next;

    ListTokenizer(List<String> tokens) {
        this.tokens = tokens;
    }

    @Override
    public boolean hasMoreTokens() {
        return next < tokens.size();
    }

    @Override
    public int countTokens() {
        return tokens.size();
    }

    @Override
    public String nextToken() {
        return tokens.get(next++);
    }

    @Override
    public List<String> getTokens() {
        return tokens;
    }

    @Override
    public void setTokenPreProcessor(TokenPreProcess tokenPreProcessor) {
        throw new UnsupportedOperationException("tokens are already processed");
    }
}
