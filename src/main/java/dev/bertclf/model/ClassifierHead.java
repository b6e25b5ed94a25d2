package dev.bertclf.model;

import dev.bertclf.config.Settings;
import dev.bertclf.nd4jfix.Engine;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a pretrained BERT graph into a classifier: optional encoder truncation, the last kept layer computed for
 * the [CLS] rows only ({@link ClsOnlyLayer}), a dense head on the pooled output (inverted dropout in training
 * only), and which weights train. Single-label: softmax and cross-entropy (optionally weighted by class);
 * multi-label: a sigmoid per label and binary cross-entropy (optionally with a positive weight per label).
 *
 * <pre>
 * pooled [batch, hidden] ─┬─ × kernel [hidden, labels] + bias → logits → probs (softmax | sigmoid)   (inference)
 *                         └─ ⊙ dropout_mask → × kernel + bias → train_logits → loss                 (training)
 * </pre>
 */
public final class ClassifierHead {
    private static final Logger log = LoggerFactory.getLogger(ClassifierHead.class);
    /** Standard deviation of the initial head weights, as in Google's BERT. */
    static final double INIT_STDDEV = 0.02;
    static final String TRUNCATED_POOLED = "pooled_truncated";

    private ClassifierHead() {
    }

    /**
     * @param encoderLayers keep the first N layers (all when N equals the model's layer count)
     * @param frozenLayers  freeze embeddings and the first N layers (0 = all layers train)
     * @param dropout       drop probability on the pooled output in training (0 = no dropout placeholder)
     * @param classWeights  single-label: each class's weight in the loss; multi-label: each label's positive weight;
     *                      null for the plain mean
     * @return the names of the trainable weights
     */
    public static List<String> attach(SameDiff sd, ModelDescriptor d, int numClasses, int encoderLayers,
                                      int frozenLayers, double dropout, long seed, float[] classWeights) {
        return attach(sd, d, Settings.Task.SINGLE_LABEL, numClasses, encoderLayers, frozenLayers, dropout, seed,
                classWeights);
    }

    /** The same, for {@code task}'s kind of labels. */
    public static List<String> attach(SameDiff sd, ModelDescriptor d, Settings.Task task, int numClasses,
                                      int encoderLayers, int frozenLayers, double dropout, long seed,
                                      float[] classWeights) {
        boolean multi = task == Settings.Task.MULTI_LABEL;
        if (numClasses < (multi ? 1 : 2)) {
            throw new IllegalArgumentException("a classifier needs at least " + (multi ? "1 label" : "2 classes")
                    + ", got " + numClasses);
        }
        SDVariable pooled = encoderLayers > 1 ? ClsOnlyLayer.replacePooled(sd, d, encoderLayers - 1)
                : encoderLayers < d.layers() ? truncatedPooled(sd, d, encoderLayers)
                : sd.getVariable(GraphNames.POOLED);
        int hidden = d.hiddenSize();
        SDVariable kernel = sd.var(GraphNames.HEAD_KERNEL,
                Nd4j.getRandomFactory().getNewRandomInstance(seed).nextGaussian(new long[]{hidden, numClasses})
                        .castTo(DataType.FLOAT).muli(INIT_STDDEV));
        SDVariable bias = sd.var(GraphNames.HEAD_BIAS, Nd4j.zeros(DataType.FLOAT, numClasses));
        SDVariable logits = pooled.mmul(kernel).add(GraphNames.LOGITS, bias);
        if (multi) {
            sd.nn.sigmoid(GraphNames.PROBS, logits);
        } else {
            sd.nn.softmax(GraphNames.PROBS, logits, -1);
        }
        SDVariable trainLogits = logits;
        if (dropout > 0) {
            SDVariable mask = sd.placeHolder(GraphNames.DROPOUT_MASK, DataType.FLOAT, -1, hidden);
            trainLogits = pooled.mul(mask).mmul(kernel).add(GraphNames.TRAIN_LOGITS, bias);
        }
        SDVariable label = sd.placeHolder(GraphNames.LABEL, DataType.FLOAT, -1, numClasses);
        SDVariable loss = multi ? multiLabelLoss(sd, label, trainLogits, classWeights)
                : loss(sd, label, trainLogits, classWeights);
        Engine.keepLossOf(loss, GraphNames.LOSS_KEEPER);
        sd.setLossVariables(GraphNames.LOSS);
        return makeTrainable(sd, d, encoderLayers, frozenLayers);
    }

    /**
     * The training loss, named {@link GraphNames#LOSS}: softmax cross-entropy, its mean over the batch; with class
     * weights w, the weighted mean Σ w[y_i]·CE_i / Σ w[y_i] over the batch's examples i, as PyTorch's
     * {@code CrossEntropyLoss(weight=w)} computes it (SameDiff's own weighted reductions divide otherwise).
     */
    static SDVariable loss(SameDiff sd, SDVariable oneHot, SDVariable logits, float[] classWeights) {
        if (classWeights == null) {
            return sd.loss.softmaxCrossEntropy(GraphNames.LOSS, oneHot, logits, null);
        }
        if (classWeights.length != oneHot.getShape()[1]) {
            throw new IllegalArgumentException(classWeights.length + " class weights for " + oneHot.getShape()[1]
                    + " classes");
        }
        SDVariable perExample = Engine.perExampleCrossEntropy(sd, oneHot, logits); // [batch, 1]
        SDVariable w = sd.constant(GraphNames.CLASS_WEIGHTS, Nd4j.createFromArray(classWeights));
        SDVariable exampleWeights = oneHot.mul(w).sum(true, 1); // [batch, 1], as perExample: no broadcast to [b, b]
        return perExample.mul(exampleWeights).sum().div(GraphNames.LOSS, exampleWeights.sum());
    }

    /**
     * The multi-label training loss, named {@link GraphNames#LOSS}: binary cross-entropy of a sigmoid per label, its
     * mean over every (example, label) pair, as PyTorch's {@code BCEWithLogitsLoss(pos_weight=p)} computes it: for
     * logit z, target y and label j, p_j·y·softplus(−z) + (1−y)·softplus(z) (= −p_j·y·log σ(z) − (1−y)·log(1−σ(z)),
     * without taking the log of a sigmoid that rounds to 0 or 1). {@code positiveWeights} null: every p_j = 1.
     */
    static SDVariable multiLabelLoss(SameDiff sd, SDVariable multiHot, SDVariable logits, float[] positiveWeights) {
        SDVariable positive = sd.nn.softplus(logits.neg());
        if (positiveWeights != null) {
            positive = positive.mul(sd.constant(GraphNames.CLASS_WEIGHTS, Nd4j.createFromArray(positiveWeights)));
        }
        SDVariable perPair = multiHot.mul(positive).add(multiHot.rsub(1.0).mul(sd.nn.softplus(logits)));
        return perPair.mean(GraphNames.LOSS);
    }

    /**
     * Pooled output of the first {@code n} layers, with the pretrained pooler weights: only layers 0..n-1 run.
     * Layer outputs are {@code [batch * seqLen, hidden]}; the [CLS] row of each example is taken. Used where the
     * encoder is cut to its first layer, which {@link ClsOnlyLayer} cannot take (it reads the layer before).
     */
    static SDVariable truncatedPooled(SameDiff sd, ModelDescriptor d, int n) {
        String name = String.format(Locale.ROOT, d.tensors().layerOutput(), n - 1);
        SDVariable h = sd.getVariable(name);
        if (h == null) {
            throw new ModelException("Graph has no layer output '" + name + "' (descriptor tensors.layer-output)");
        }
        SDVariable shape = sd.concat(0, sd.shape(sd.getVariable(GraphNames.INPUT_IDS)).castTo(DataType.LONG),
                sd.constant(Nd4j.createFromArray((long) d.hiddenSize())));
        SDVariable cls = sd.reshape(h, shape).get(SDIndex.all(), SDIndex.point(0), SDIndex.all());
        SDVariable kernel = required(sd, d.tensors().poolerKernel(), "tensors.pooler-kernel");
        SDVariable bias = required(sd, d.tensors().poolerBias(), "tensors.pooler-bias");
        return sd.math.tanh(TRUNCATED_POOLED, cls.mmul(kernel).add(bias));
    }

    private static SDVariable required(SameDiff sd, String name, String key) {
        SDVariable v = sd.getVariable(name);
        if (v == null) {
            throw new ModelException("Graph has no tensor '" + name + "' (descriptor " + key + ")");
        }
        return v;
    }

    /** Converts the pretrained constants that should train into variables; the head is trainable already. */
    private static List<String> makeTrainable(SameDiff sd, ModelDescriptor d, int encoderLayers, int frozenLayers) {
        ModelDescriptor.Tensors t = d.tensors();
        List<SDVariable> train = new ArrayList<>();
        long params = 0;
        String poolerPrefix = t.poolerKernel().substring(0, t.poolerKernel().lastIndexOf('/') + 1);
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() != VariableType.CONSTANT || !v.name().startsWith(t.variablePrefix())
                    || !Engine.mayTrain(v.name(), t.wordEmbeddings()) || !v.dataType().isFPType()) {
                continue;
            }
            int layer = layerOf(v.name(), t, d.layers());
            boolean pooler = v.name().startsWith(poolerPrefix);
            boolean embeddings = layer < 0 && !pooler;
            boolean frozen = frozenLayers > 0 && (embeddings || (layer >= 0 && layer < frozenLayers));
            boolean unused = layer >= encoderLayers;
            if (!frozen && !unused) {
                train.add(v);
                params += v.getArr().length();
            }
        }
        sd.convertToVariables(train);
        List<String> names = new ArrayList<>(train.stream().map(SDVariable::name).toList());
        names.add(GraphNames.HEAD_KERNEL);
        names.add(GraphNames.HEAD_BIAS);
        log.info("Trainable: {} pretrained weights ({} parameters) + head; {} of {} encoder layers kept, {} frozen",
                train.size(), params, encoderLayers, d.layers(), frozenLayers);
        return names;
    }

    /** Encoder layer index of a weight name, or -1 when it belongs to no layer (embeddings, pooler). */
    static int layerOf(String name, ModelDescriptor.Tensors t, int layers) {
        for (int i = layers - 1; i >= 0; i--) {
            if (name.startsWith(String.format(Locale.ROOT, t.layerVariables(), i))) {
                return i;
            }
        }
        return -1;
    }
}
