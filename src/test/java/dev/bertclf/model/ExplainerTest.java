package dev.bertclf.model;

import dev.bertclf.RealBert;
import dev.bertclf.config.Settings.ExplainSettings;
import dev.bertclf.config.Settings.FeatureSettings;
import dev.bertclf.config.Settings.Padding;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.config.Truncation;
import dev.bertclf.data.BertWordPieceTokenizer.Piece;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.run.RunFolder;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Integrated gradients on the word embeddings: the closed form on a graph whose gradient is known, finite
 * differences along the path, completeness and Adebayo et al.'s randomisation test on a real fine-tuned BERT.
 */
class ExplainerTest {
    static final List<String> VOCAB = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad", "movie", "plot",
            "##s", "very");

    /**
     * A graph shaped like the imported BERT's input (ids expanded, the table gathered, {@code [batch, seqLen, 1,
     * hidden]}), whose logits are {@code u^2} and {@code u}, with {@code u = sum over positions of w . e_t}.
     */
    static SameDiff quadraticModel(INDArray table, INDArray w) {
        SameDiff sd = SameDiff.create();
        SDVariable ids = sd.placeHolder(GraphNames.INPUT_IDS, DataType.INT, -1, -1);
        SDVariable mask = sd.placeHolder(GraphNames.INPUT_MASK, DataType.INT, -1, -1);
        sd.placeHolder(GraphNames.SEGMENT_IDS, DataType.INT, -1, -1);
        SDVariable words = sd.constant("word_embeddings", table);
        SDVariable lookup = sd.gather("lookup", words, sd.expandDims(ids, 2), 0);
        SDVariable e = sd.squeeze(lookup, 2);
        SDVariable perPosition = e.mul(sd.constant("w", w)).sum(2).mul(mask.castTo(DataType.FLOAT));
        SDVariable u = perPosition.sum(true, 1);
        SDVariable logits = sd.concat(GraphNames.LOGITS, 1, u.mul(u), u);
        sd.nn.softmax(GraphNames.PROBS, logits, -1);
        return sd;
    }

    static final Task SQUARE_AND_LINEAR = Task.singleLabel(List.of("square", "linear"));
    static final String SAMPLE = "Very good movies, bad plot";

    /** A random word-embedding table and the weights of {@link #quadraticModel}. */
    record Quadratic(INDArray table, INDArray w) {
        static Quadratic random(long seed) {
            Nd4j.getRandom().setSeed(seed);
            return new Quadratic(Nd4j.rand(DataType.FLOAT, VOCAB.size(), 4).subi(0.5),
                    Nd4j.createFromArray(0.7f, -1.3f, 0.4f, 2.0f));
        }

        /** An explainer of the model on copies of the arrays: closing it frees its graph's. */
        Explainer explainer(Featurizer featurizer, ExplainSettings settings) {
            return new Explainer(quadraticModel(table.dup(), w.dup()), "word_embeddings", featurizer,
                    SQUARE_AND_LINEAR, Precision.FP32, settings);
        }
    }

    static Featurizer tinyFeaturizer(Path dir) throws Exception {
        Path vocab = Files.write(dir.resolve("vocab.txt"), VOCAB);
        return new Featurizer(vocab, TextNormalization.UNCASED,
                new FeatureSettings(16, Truncation.HEAD, 0.5, Padding.BATCH, false));
    }

    @Test
    void attributionsEqualTheClosedFormOfAQuadraticLogitAndALinearOne(@TempDir Path dir) throws Exception {
        Quadratic q = Quadratic.random(7);
        INDArray table = q.table();
        INDArray w = q.w();
        Featurizer featurizer = tinyFeaturizer(dir);
        String text = SAMPLE;
        try (Explainer explainer = q.explainer(featurizer, new ExplainSettings(4, 3, 0, 2048))) {
            List<Piece> pieces = featurizer.pieces(text);
            int t = pieces.size();
            // by hand: x_t . w and b_t . w, b being [PAD] between [CLS] and [SEP]
            double[] xw = new double[t];
            double[] bw = new double[t];
            double ux = 0;
            double ub = 0;
            for (int i = 0; i < t; i++) {
                INDArray row = table.getRow(featurizer.id(pieces.get(i).token()));
                xw[i] = row.mul(w).sumNumber().doubleValue();
                bw[i] = i == 0 || i == t - 1 ? xw[i] : table.getRow(0).mul(w).sumNumber().doubleValue();
                ux += xw[i];
                ub += bw[i];
            }
            Explainer.Explanation square = explainer.explain(text, "square").explanations().get(0);
            Explainer.Explanation linear = explainer.explain(text, "linear").explanations().get(0);
            for (int i = 0; i < t; i++) {
                // d(u^2)/de_t = 2 u w, integrated along u(a) = ub + a (ux - ub): (x_t - b_t) . w (ux + ub)
                assertEquals((xw[i] - bw[i]) * (ux + ub), square.pieceAttributions()[i], 1e-4, "square, piece " + i);
                assertEquals(xw[i] - bw[i], linear.pieceAttributions()[i], 1e-5, "linear, piece " + i);
            }
            assertEquals(0, square.pieceAttributions()[0], 0, "[CLS] is its own baseline");
            assertEquals(ux * ux, square.logit(), 1e-4);
            assertEquals(ub * ub, square.baselineLogit(), 1e-4);
            assertTrue(square.gap() < 1e-4, "the rule is exact on a quadratic path: " + square.gap());
            assertEquals(List.of("Very", "good", "movies", ",", "bad", "plot"),
                    square.words().stream().map(Explainer.Word::text).toList());
            Explainer.Word movies = square.words().get(2);
            assertEquals(text.indexOf("movies"), movies.start());
            assertEquals(square.pieceAttributions()[3] + square.pieceAttributions()[4], movies.attribution(), 1e-9,
                    "a word's attribution is its pieces' (movie, ##s)");
        }
    }

    /** Passes of one point each (a pass no larger than explain.pass-word-pieces) give the same attributions. */
    @Test
    void passesNoLargerThanPassWordPiecesGiveTheSameAttributions(@TempDir Path dir) throws Exception {
        Quadratic q = Quadratic.random(11);
        Featurizer featurizer = tinyFeaturizer(dir);
        String text = SAMPLE;
        int t = featurizer.pieces(text).size();
        double[][] attributions = new double[2][];
        int[] passes = new int[2];
        int[] wordPieces = {2048, t};
        for (int i = 0; i < 2; i++) {
            try (Explainer explainer = q.explainer(featurizer, new ExplainSettings(4, 3, 0, wordPieces[i]))) {
                Explainer.Job job = explainer.start(text, "square", Long.MAX_VALUE);
                do {
                    passes[i]++;
                } while (!job.step());
                attributions[i] = job.result().explanations().get(0).pieceAttributions();
            }
        }
        assertEquals(1 + 2, passes[0], "the text's pass, then 4 points 3 at a time");
        assertEquals(1 + 4, passes[1], "the text's pass, then 4 points one at a time");
        assertArrayEquals(attributions[0], attributions[1], 1e-6);
    }

    @Test
    void aWordIsItsPiecesSpanAndSumAcrossAccentsCjkEmojiAndUnknownWords() {
        String text = "Café 😍 电影 x";
        List<Piece> pieces = List.of(new Piece("[CLS]", 0, 0, -1), new Piece("ca", 0, 2, 0),
                new Piece("##fe", 2, 4, 0), new Piece("[UNK]", 5, 7, 1), new Piece("电", 8, 9, 2),
                new Piece("影", 9, 10, 3), new Piece("x", 11, 12, 4), new Piece("[SEP]", 12, 12, -1));
        List<Explainer.Word> words = Explainer.words(text, pieces, new double[]{9, 1, 2, 3, 4, 5, 6, 9});
        assertEquals(List.of(new Explainer.Word("Café", 0, 4, 3), new Explainer.Word("😍", 5, 7, 3),
                new Explainer.Word("电", 8, 9, 4), new Explainer.Word("影", 9, 10, 5),
                new Explainer.Word("x", 11, 12, 6)), words);
    }

    static List<String> fiveReviews() throws Exception {
        return RealBert.reviews(RealBert.IMDB_TEST, 5).stream().map(LabeledText::text).toList();
    }

    @Test
    @Tag("slow")
    void onAFineTunedBertTheAttributionsAddUpToTheLogitsChangeWithinFivePercentAt32Steps() throws Exception {
        RunFolder run = RealBert.tinyRun();
        try (Explainer explainer = run.explainer(Precision.FP32, new ExplainSettings(32, 16, 0, 2048))) {
            long skipped = dev.bertclf.nd4jfix.Engine.skippedWeightGradients();
            for (String review : fiveReviews()) {
                Explainer.Explanation e = explainer.explain(review).explanations().get(0);
                assertEquals(32, e.steps(), "no doubling");
                assertTrue(e.gap() <= 0.05, "gap " + e.gap() + ": sum " + e.total() + " vs "
                        + (e.logit() - e.baselineLogit()));
                assertTrue(Math.abs(e.logit() - e.baselineLogit()) > 0.1, "the text moves the logit");
            }
            assertTrue(dev.bertclf.nd4jfix.Engine.skippedWeightGradients() > skipped,
                    "the weights' gradient products were left out");
        }
    }

    @Test
    @Tag("slow")
    void theGradientAlongThePathMatchesFiniteDifferencesOfTheLogit() throws Exception {
        RunFolder run = RealBert.tinyRun();
        try (Explainer explainer = run.explainer(Precision.FP32, new ExplainSettings(32, 16, 0, 2048))) {
            String review = fiveReviews().get(0);
            for (double alpha : new double[]{0.2, 0.5, 0.9}) {
                double[] d = explainer.derivativeAlongPath(review, 0, alpha, 1e-2);
                assertEquals(d[1], d[0], 0.02 * Math.abs(d[1]) + 1e-3,
                        "at " + alpha + ": gradient . (x - b) " + d[0] + ", finite difference " + d[1]);
            }
        }
    }

    /** Spearman's rank correlation of two explanations' word attributions (the same words in the same order). */
    static double rankCorrelation(Explainer.Explanation a, Explainer.Explanation b) {
        double[] x = a.words().stream().mapToDouble(Explainer.Word::attribution).toArray();
        double[] y = b.words().stream().mapToDouble(Explainer.Word::attribution).toArray();
        return new SpearmansCorrelation().correlation(x, y);
    }

    @Test
    @Tag("slow")
    void randomisingTheLastLayersChangesTheAttributionsWhileReloadingTheSameWeightsDoesNot() throws Exception {
        RunFolder run = RealBert.tinyRun();
        List<String> reviews = fiveReviews();
        List<Explainer.Explanation> trained = new ArrayList<>();
        try (Explainer explainer = run.explainer(Precision.FP32, new ExplainSettings(16, 16, 0, 2048))) {
            for (String r : reviews) {
                trained.add(explainer.explain(r, "positive").explanations().get(0));
            }
        }
        List<Double> same = new ArrayList<>();
        try (Explainer again = run.explainer(Precision.FP32, new ExplainSettings(16, 16, 0, 2048))) {
            for (int i = 0; i < reviews.size(); i++) {
                same.add(rankCorrelation(trained.get(i), again.explain(reviews.get(i), "positive").explanations()
                        .get(0)));
            }
        }
        SameDiff randomised = SavedGraphs.load(run.file(RunFolder.MODEL));
        Nd4j.getRandom().setSeed(42);
        int layers = run.settings().model().encoderLayers();
        int changed = 0;
        for (SDVariable v : randomised.variables()) {
            boolean last = v.name().startsWith("classifier/") || v.name().contains("/pooler/")
                    || v.name().contains("/layer_" + (layers - 1) + "/");
            if (last && v.getVariableType() == VariableType.VARIABLE && v.dataType() == DataType.FLOAT) {
                INDArray a = v.getArr();
                a.assign(Nd4j.randn(DataType.FLOAT, a.shape()).muli(0.02));
                changed++;
            }
        }
        assertTrue(changed >= 16, "the head, the pooler and the last encoder layer: " + changed + " weights");
        ModelDescriptor base = ModelDescriptor.load(run.file(RunFolder.BASE_MODEL));
        Featurizer featurizer = run.featurizer();
        List<Double> random = new ArrayList<>();
        try (Explainer explainer = new Explainer(randomised, base.tensors().wordEmbeddings(), featurizer, run.task(),
                Precision.FP32, new ExplainSettings(16, 16, 0, 2048))) {
            for (int i = 0; i < reviews.size(); i++) {
                random.add(rankCorrelation(trained.get(i), explainer.explain(reviews.get(i), "positive")
                        .explanations().get(0)));
            }
        }
        double sameMean = same.stream().mapToDouble(d -> d).average().orElseThrow();
        double randomMean = random.stream().mapToDouble(d -> d).average().orElseThrow();
        assertTrue(sameMean > 0.99, "the same weights give the same ranking: " + same);
        assertTrue(randomMean < 0.5, "randomised last layers change the ranking: " + random);
    }
}
