package dev.bertclf.model;

import dev.bertclf.config.Settings.ExplainSettings;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.data.BertWordPieceTokenizer.Piece;
import dev.bertclf.data.Featurizer;
import dev.bertclf.graph.GraphSurgery;
import dev.bertclf.nd4jfix.Engine;
import org.apache.commons.math3.analysis.integration.gauss.GaussIntegrator;
import org.apache.commons.math3.analysis.integration.gauss.GaussIntegratorFactory;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Word attributions by integrated gradients (Sundararajan et al. 2017) on the output of the word-embedding lookup,
 * what Captum's {@code LayerIntegratedGradients} computes on BERT's embedding layer:
 * <pre>
 *   attribution(piece t) = sum over h of (x[t,h] - b[t,h]) * integral over a in [0,1] of d logit(b + a (x - b)) / d x[t,h]
 * </pre>
 * where {@code x} is the text's word embeddings and the baseline {@code b} is the [PAD] embedding at every position
 * but [CLS] and [SEP] (positions and segments unchanged). The integral is a Gauss-Legendre rule of
 * {@code explain.steps} nodes (exact for polynomials of degree {@code 2 steps - 1}; the trapezoid rule needs many more
 * points for the same gap), its nodes batched {@code explain.batch-size} at a time into forward+backward passes. The
 * completeness gap {@code |sum of attributions - (logit(x) - logit(b))| / |logit(x) - logit(b)|} comes with every
 * explanation; above {@code explain.max-gap} the steps are doubled once.
 *
 * <p>It owns a graph of its own, loaded for it: the lookup's output is rewired to a placeholder (the explained
 * embeddings) and the objective {@code sum(logits * target)} is made the graph's loss, so the classifier's own graph
 * is not changed. One caller at a time.
 */
public final class Explainer implements AutoCloseable {
    /** Placeholder that replaces the word-embedding lookup's output, {@code [batch, seqLen, (1,) hidden]}. */
    static final String EMBEDDINGS = "explain_word_embeddings";
    /** One-hot (or several-hot) choice of the logits explained, {@code [batch, labels]}. */
    static final String TARGET = "explain_target";
    static final String OBJECTIVE = "explain_objective";
    public static final String PAD = "[PAD]";

    private final SameDiff sd;
    private final Featurizer featurizer;
    private final Task task;
    private final Precision precision;
    private final ExplainSettings settings;
    /** The word-embedding table {@code [vocabulary, hidden]}. */
    private final INDArray table;
    /** The lookup output's shape after the two leading dimensions (batch, position): {@code [1, hidden]} in BERT. */
    private final long[] innerShape;
    private final int padId;
    /** Backward passes compute the embeddings' gradient, not the weights'. */
    private final Engine.InputGradients inputGradients;

    /**
     * @param sd             a classifier graph for this explainer alone (it is rewired)
     * @param wordEmbeddings the name of the word-embedding table in it (the model descriptor's)
     * @param precision      the products' number format: bf16 runs the passes in the training's bf16 scope; int8
     *                       has no gradient, so its explanations are computed in float32
     */
    public Explainer(SameDiff sd, String wordEmbeddings, Featurizer featurizer, Task task, Precision precision,
                     ExplainSettings settings) {
        this.sd = sd;
        this.featurizer = featurizer;
        this.task = task;
        this.precision = precision;
        this.settings = settings;
        this.padId = featurizer.id(PAD);
        this.table = sd.getVariable(wordEmbeddings).getArr();
        String lookup = lookupOutput(sd, wordEmbeddings);
        this.innerShape = lookupShape(lookup);
        GraphSurgery.withoutEagerMode(sd, g -> {
            long[] shape = new long[2 + innerShape.length];
            shape[0] = -1;
            shape[1] = -1;
            System.arraycopy(innerShape, 0, shape, 2, innerShape.length);
            SDVariable embeddings = g.placeHolder(EMBEDDINGS, DataType.FLOAT, shape);
            GraphSurgery.rewireConsumers(g, lookup, embeddings);
            SDVariable target = g.placeHolder(TARGET, DataType.FLOAT, -1, task.labels().size());
            g.getVariable(GraphNames.LOGITS).mul(target).sum(OBJECTIVE);
            g.setLossVariables(OBJECTIVE);
            return 1;
        });
        Engine.createInputGradients(sd, EMBEDDINGS);
        this.inputGradients = Engine.InputGradients.of(sd);
    }

    /** The output of the gather that reads {@code table}: the word embeddings of the input ids. */
    private static String lookupOutput(SameDiff sd, String table) {
        for (SameDiffOp op : sd.getOps().values()) {
            if (op.getOp().opName().equals("gather") && op.getInputsToOp().get(0).equals(table)) {
                return op.getOutputsOfOp().get(0);
            }
        }
        throw new ModelException("the classifier graph has no lookup of the word embeddings '" + table + "'");
    }

    /** The lookup's output shape after batch and position, from one pass of a one-token batch. */
    private long[] lookupShape(String lookup) {
        Featurizer.Batch b = featurizer.featurize(List.of("a"));
        long[] shape = sd.output(Classifier.placeholders(b), lookup).get(lookup).shape();
        return java.util.Arrays.copyOfRange(shape, 2, shape.length);
    }

    /** A word of the text (as the tokenizer split it), its characters {@code [start, end)} and its attribution. */
    public record Word(String text, int start, int end, double attribution) {
        /** As the JSON outputs write it: {@code word}, {@code start}, {@code end}, {@code attribution}. */
        Map<String, Object> toMap() {
            Map<String, Object> word = new LinkedHashMap<>();
            word.put("word", text);
            word.put("start", start);
            word.put("end", end);
            word.put("attribution", attribution);
            return word;
        }
    }

    /**
     * What made the classifier give {@code label} its score: each word's attribution (the sum of its word pieces'),
     * the pieces' own, the explained logit at the text and at the baseline, the completeness gap and the steps that
     * reached it.
     */
    public record Explanation(String label, float probability, List<Word> words, List<Piece> pieces,
                              double[] pieceAttributions, double logit, double baselineLogit, double gap, int steps) {
        /** The attributions' sum, which completeness says is {@code logit - baselineLogit}. */
        public double total() {
            double s = 0;
            for (double a : pieceAttributions) {
                s += a;
            }
            return s;
        }
    }

    /** A text's class probabilities and the explanation of each label chosen. */
    public record Explained(String text, float[] probabilities, List<Explanation> explanations) {
        /**
         * As Explain's JSON lines and {@code /explain} write it: {@code probabilities} by label, and
         * {@code explanations}, each with its label, probability, logit, baseline logit, completeness gap, steps and
         * words ({@code word}, {@code start}, {@code end}: UTF-16 indices into the text, {@code attribution}).
         */
        public Map<String, Object> toMap(List<String> labels) {
            Map<String, Object> m = new LinkedHashMap<>();
            Map<String, Double> p = new LinkedHashMap<>();
            for (int i = 0; i < labels.size(); i++) {
                p.put(labels.get(i), (double) probabilities[i]);
            }
            m.put("probabilities", p);
            List<Map<String, Object>> all = new ArrayList<>();
            for (Explanation x : explanations) {
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("label", x.label());
                one.put("probability", (double) x.probability());
                one.put("logit", x.logit());
                one.put("baseline_logit", x.baselineLogit());
                one.put("completeness_gap", x.gap());
                one.put("steps", x.steps());
                one.put("words", x.words().stream().map(Word::toMap).toList());
                all.add(one);
            }
            m.put("explanations", all);
            return m;
        }

        /**
         * The {@code k} words of each explanation with the largest attributions, of either sign, largest first: as
         * Score's {@code top_words} column holds them ({@code label}, {@code word}, {@code start}, {@code end},
         * {@code attribution}).
         */
        public List<Map<String, Object>> topWords(int k) {
            List<Map<String, Object>> top = new ArrayList<>();
            for (Explanation x : explanations) {
                x.words().stream().sorted(java.util.Comparator.comparingDouble((Word w) -> -Math.abs(w.attribution())))
                        .limit(k).forEach(w -> {
                            Map<String, Object> word = new LinkedHashMap<>();
                            word.put("label", x.label());
                            word.putAll(w.toMap());
                            top.add(word);
                        });
            }
            return top;
        }

        /** The largest completeness gap of the explanations. */
        public double largestGap() {
            return explanations.stream().mapToDouble(Explanation::gap).max().orElse(0);
        }
    }

    /**
     * Explains what the classifier chose for {@code text}: the most probable class of a single-label classifier, each
     * label at or over its threshold of a multi-label one (the most probable label when none is).
     */
    public synchronized Explained explain(String text) {
        return explain(text, null);
    }

    /** Explains the score of {@code label} (one of the task's labels), or of what was chosen when it is null. */
    public synchronized Explained explain(String text, String label) {
        Job job = start(text, label, Long.MAX_VALUE);
        while (!job.step()) {
            // each step is one forward+backward pass
        }
        return job.result();
    }

    /**
     * An explanation to compute one pass at a time ({@link Job#step}), so that a server can run other passes
     * between them: passes of at most {@code unitWordPieces} (and {@code explain.pass-word-pieces}) word pieces
     * (interpolation points times the text's word pieces; at least one point), or {@code explain.batch-size} points
     * if fewer.
     *
     * @param label one of the task's labels, or null for what the classifier chose
     */
    public Job start(String text, String label, long unitWordPieces) {
        if (label != null && !task.labels().contains(label)) {
            throw new IllegalArgumentException("unknown label '" + label + "': the model's labels are "
                    + task.labels());
        }
        return new Job(text, label, unitWordPieces);
    }

    /** One text's explanation in progress; its steps run on one thread, with nothing else using the explainer. */
    public final class Job {
        private final String text;
        private final String label;
        private final int pointsPerPass;
        private final List<Piece> pieces;
        private INDArray x;
        private INDArray baseline;
        private INDArray difference;
        private float[] probabilities;
        private INDArray endLogits;
        private final List<Integer> targets = new ArrayList<>();
        private final List<Explanation> explanations = new ArrayList<>();
        /** The label being explained now, its rule, the points done and the integral so far. */
        private int steps;
        private GaussIntegrator rule;
        private int from;
        private INDArray integral;
        private boolean doubled;

        private Job(String text, String label, long unitWordPieces) {
            this.text = text;
            this.label = label;
            this.pieces = featurizer.pieces(text);
            long wordPieces = Math.min(unitWordPieces, settings.passWordPieces());
            this.pointsPerPass = (int) Math.max(1, Math.min(settings.batchSize(), wordPieces / pieces.size()));
        }

        /** Runs the next pass; true once the explanation is complete. */
        public boolean step() {
            if (x == null) {
                begin();
            } else {
                integrate();
            }
            return targets.size() == explanations.size();
        }

        public Explained result() {
            if (targets.size() != explanations.size()) {
                throw new IllegalStateException("the explanation is not complete");
            }
            return new Explained(text, probabilities, List.copyOf(explanations));
        }

        /** The first pass: the text and its baseline forward, which gives the probabilities and what to explain. */
        private void begin() {
            x = embeddings(pieces);
            baseline = baseline(x);
            difference = x.sub(baseline);
            Map<String, INDArray> ph = Classifier.placeholders(batchOf(pieces, 2));
            ph.put(EMBEDDINGS, embeddingsInput(Nd4j.stack(0, x, baseline)));
            Map<String, INDArray> out = inPrecision(() -> sd.output(ph, GraphNames.LOGITS, GraphNames.PROBS));
            probabilities = out.get(GraphNames.PROBS).getRow(0).toFloatVector();
            endLogits = out.get(GraphNames.LOGITS);
            if (label != null) {
                targets.add(task.labels().indexOf(label));
            } else {
                for (String chosen : task.chosen(probabilities)) {
                    targets.add(task.labels().indexOf(chosen));
                }
                if (targets.isEmpty()) {
                    targets.add(Task.argMax(probabilities));
                }
            }
            restart(settings.steps());
        }

        private void restart(int steps) {
            this.steps = steps;
            this.rule = new GaussIntegratorFactory().legendre(steps, 0, 1);
            this.from = 0;
            this.integral = Nd4j.zeros(DataType.FLOAT, x.size(0), x.size(1));
        }

        /** One pass of interpolation points for the label explained now; completes it after the last. */
        private void integrate() {
            int target = targets.get(explanations.size());
            int n = Math.min(pointsPerPass, steps - from);
            long t = pieces.size();
            INDArray points = Nd4j.create(DataType.FLOAT, n, t, x.size(1));
            for (int k = 0; k < n; k++) {
                points.get(NDArrayIndex.point(k)).assign(difference.mul(rule.getPoint(from + k)).addi(baseline));
            }
            Map<String, INDArray> ph = Classifier.placeholders(batchOf(pieces, n));
            ph.put(EMBEDDINGS, embeddingsInput(points));
            INDArray oneHot = Nd4j.zeros(DataType.FLOAT, n, task.labels().size());
            oneHot.getColumn(target).assign(1);
            ph.put(TARGET, oneHot);
            INDArray gradients = inPrecision(() -> inputGradients.run(() -> sd.calculateGradients(ph, EMBEDDINGS)
                    .get(EMBEDDINGS))).reshape(n, t, x.size(1));
            for (int k = 0; k < n; k++) {
                integral.addi(gradients.get(NDArrayIndex.point(k)).mul(rule.getWeight(from + k)));
            }
            // the pass's activations and their gradients are freed only when their Java objects are collected
            Engine.afterInferenceBatch();
            from += n;
            if (from < steps) {
                return;
            }
            double[] attributions = difference.mul(integral).sum(1).toDoubleVector();
            double[] ends = {endLogits.getDouble(0, target), endLogits.getDouble(1, target)};
            double gap = gap(attributions, ends);
            if (settings.maxGap() > 0 && gap > settings.maxGap() && !doubled) {
                doubled = true;
                restart(steps * 2);
                return;
            }
            explanations.add(new Explanation(task.labels().get(target), probabilities[target],
                    words(text, pieces, attributions), pieces, attributions, ends[0], ends[1], gap, steps));
            doubled = false;
            if (explanations.size() < targets.size()) {
                restart(settings.steps());
            }
        }
    }

    /**
     * For tests: the derivative of the target logit along the path at {@code alpha}, from the gradient
     * ({@code sum of gradient . (x - b)}) and by central finite differences of step {@code h}.
     */
    synchronized double[] derivativeAlongPath(String text, int target, double alpha, double h) {
        List<Piece> pieces = featurizer.pieces(text);
        INDArray x = embeddings(pieces);
        INDArray baseline = baseline(x);
        INDArray difference = x.sub(baseline);
        Map<String, INDArray> ph = Classifier.placeholders(batchOf(pieces, 1));
        ph.put(EMBEDDINGS, embeddingsInput(Nd4j.expandDims(difference.mul(alpha).addi(baseline), 0)));
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, 1, task.labels().size());
        oneHot.putScalar(0, target, 1);
        ph.put(TARGET, oneHot);
        INDArray gradient = sd.calculateGradients(ph, EMBEDDINGS).get(EMBEDDINGS).reshape(difference.shape());
        Map<String, INDArray> ends = Classifier.placeholders(batchOf(pieces, 2));
        ends.put(EMBEDDINGS, embeddingsInput(Nd4j.stack(0, difference.mul(alpha + h).addi(baseline),
                difference.mul(alpha - h).addi(baseline))));
        INDArray logits = sd.output(ends, GraphNames.LOGITS).get(GraphNames.LOGITS);
        return new double[]{gradient.mul(difference).sumNumber().doubleValue(),
                (logits.getDouble(0, target) - logits.getDouble(1, target)) / (2 * h)};
    }

    /** Relative completeness gap of some attributions, given the explained logit at the text and the baseline. */
    static double gap(double[] attributions, double[] ends) {
        double sum = 0;
        for (double a : attributions) {
            sum += a;
        }
        double change = ends[0] - ends[1];
        return Math.abs(sum - change) / Math.max(Math.abs(change), 1e-12);
    }

    /** The word embeddings of some word pieces, {@code [pieces, hidden]}. */
    private INDArray embeddings(List<Piece> pieces) {
        return Nd4j.pullRows(table, 1, pieces.stream().mapToInt(p -> featurizer.id(p.token())).toArray())
                .castTo(DataType.FLOAT);
    }

    /** The baseline of some word embeddings: [PAD]'s at every position but the first and last ([CLS], [SEP]). */
    private INDArray baseline(INDArray x) {
        INDArray baseline = x.dup();
        INDArray pad = table.getRow(padId).castTo(DataType.FLOAT);
        for (int i = 1; i < x.size(0) - 1; i++) {
            baseline.putRow(i, pad);
        }
        return baseline;
    }

    /** {@code [batch, seqLen, hidden]} embeddings in the lookup's own shape. */
    private INDArray embeddingsInput(INDArray embeddings) {
        long[] shape = new long[2 + innerShape.length];
        shape[0] = embeddings.size(0);
        shape[1] = embeddings.size(1);
        System.arraycopy(innerShape, 0, shape, 2, innerShape.length);
        return embeddings.reshape(shape);
    }

    /** {@code n} copies of one text's features: its ids, a full mask, segment 0. */
    private Featurizer.Batch batchOf(List<Piece> pieces, int n) {
        int[][] ids = new int[n][pieces.size()];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < pieces.size(); i++) {
                ids[r][i] = featurizer.id(pieces.get(i).token());
            }
        }
        return new Featurizer.Batch(Nd4j.createFromArray(ids), Nd4j.ones(DataType.INT, n, pieces.size()),
                Nd4j.zeros(DataType.INT, n, pieces.size()));
    }

    /** The pieces' attributions summed per word (one entry per word, in order; [CLS] and [SEP] left out). */
    static List<Word> words(String text, List<Piece> pieces, double[] attributions) {
        Map<Integer, double[]> byWord = new LinkedHashMap<>();
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            if (p.word() < 0) {
                continue;
            }
            double[] w = byWord.computeIfAbsent(p.word(), k -> new double[]{p.start(), p.end(), 0});
            w[0] = Math.min(w[0], p.start());
            w[1] = Math.max(w[1], p.end());
            w[2] += attributions[i];
        }
        List<Word> out = new ArrayList<>(byWord.size());
        for (double[] w : byWord.values()) {
            out.add(new Word(text.substring((int) w[0], (int) w[1]), (int) w[0], (int) w[1], w[2]));
        }
        return out;
    }

    private <T> T inPrecision(Supplier<T> pass) {
        if (precision != Precision.BF16) {
            return pass.get();
        }
        Object[] out = new Object[1];
        Engine.inBf16(() -> out[0] = pass.get());
        @SuppressWarnings("unchecked")
        T t = (T) out[0];
        return t;
    }

    public Task task() {
        return task;
    }

    @Override
    public synchronized void close() {
        Engine.release(sd);
    }
}
