package dev.bertclf.data;

import dev.bertclf.RealBert;
import org.deeplearning4j.text.tokenization.tokenizerfactory.BertWordPieceTokenizerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * By hand, on a large CSV: how many texts the product's tokenizer, and DL4J's {@code BertWordPieceTokenizerFactory}
 * it replaced, tokenize differently from the reference, and how fast each is.
 * <pre>
 * mvn -q test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.bertclf.data.TokenizerParityReport \
 *     -Dexec.args="data/imdb/test.csv 2000"
 * </pre>
 */
public final class TokenizerParityReport {
    private TokenizerParityReport() {
    }

    public static void main(String[] args) throws Exception {
        Path csv = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        Path vocabFile = RealBert.load().vocab();
        TextNormalization normalization = RealBert.descriptor().normalization();
        boolean lower = normalization.lowerCase();
        List<String> texts = RealBert.reviews(csv, n).stream().map(LabeledText::text).toList();
        Map<String, Integer> vocab = BertWordPieceTokenizer.readVocab(vocabFile);
        BertWordPieceTokenizer ours = new BertWordPieceTokenizer(vocab, normalization);
        BertWordPieceTokenizerFactory dl4j = new BertWordPieceTokenizerFactory(vocabFile.toFile(), lower, lower,
                StandardCharsets.UTF_8);
        try (ReferenceTokenizer reference = new ReferenceTokenizer(vocabFile,
                ReferenceTokenizer.HfNormalizer.BERT_BASE_UNCASED, Files.createTempDirectory("tokenizer-parity"))) {
            int oursDiffer = 0;
            int dl4jDiffer = 0;
            for (String t : texts) {
                List<Long> ref = reference.ids(t);
                List<Long> mine = ReferenceTokenizer.ids(ours.wordPieces(t), vocab);
                if (!ref.equals(mine)) {
                    if (oursDiffer < 3) {
                        System.out.println(firstDifference(t, reference.tokens(t), ours.wordPieces(t)));
                    }
                    oursDiffer++;
                }
                dl4jDiffer += ref.equals(ReferenceTokenizer.ids(dl4j.create(t).getTokens(), vocab)) ? 0 : 1;
            }
            System.out.printf("%d texts from %s%n", texts.size(), csv);
            System.out.printf("differ from the reference: product %d, DL4J BertWordPieceTokenizerFactory %d%n",
                    oursDiffer, dl4jDiffer);
            for (int round = 0; round < 3; round++) {
                System.out.printf("round %d: product %.0f texts/s, DL4J %.0f texts/s, reference (HF, native) "
                        + "%.0f texts/s%n", round + 1, rate(texts, t -> ours.wordPieces(t).size()),
                        rate(texts, t -> dl4j.create(t).getTokens().size()), rate(texts, t -> reference.ids(t).size()));
            }
        }
    }

    private static String firstDifference(String text, List<String> ref, List<String> mine) {
        int i = 0;
        while (i < Math.min(ref.size(), mine.size()) && ref.get(i).equals(mine.get(i))) {
            i++;
        }
        return "differs at piece " + i + ": reference " + ref.subList(i, Math.min(ref.size(), i + 5)) + ", product "
                + mine.subList(i, Math.min(mine.size(), i + 5)) + " in: "
                + text.substring(0, Math.min(text.length(), 80)) + "...";
    }

    private static double rate(List<String> texts, java.util.function.ToIntFunction<String> tokenize) {
        long t0 = System.nanoTime();
        long pieces = 0;
        for (String t : texts) {
            pieces += tokenize.applyAsInt(t);
        }
        return pieces >= 0 ? texts.size() / ((System.nanoTime() - t0) / 1e9) : 0;
    }
}
