package dev.bertclf;

import dev.bertclf.model.TfRuntime;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.samediff.frameworkimport.tensorflow.importer.TensorflowFrameworkImporter;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.framework.GraphDef;

import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.List;

/** Small TensorFlow graphs built with the real TF runtime, imported with M2.1's importer, for repair tests. */
public final class TinyGraphs {
    private TinyGraphs() {
    }

    public static Output<?> constant(Graph g, String name, INDArray value) {
        try (Tensor<Float> t = Tensor.create(value.shape(), FloatBuffer.wrap(value.dup('c').data().asFloat()))) {
            return g.opBuilder("Const", name).setAttr("dtype", org.tensorflow.DataType.FLOAT)
                    .setAttr("value", t).build().output(0);
        }
    }

    public static Output<?> intConstant(Graph g, String name, int[] value) {
        try (Tensor<Integer> t = Tensor.create(new long[]{value.length}, java.nio.IntBuffer.wrap(value))) {
            return g.opBuilder("Const", name).setAttr("dtype", org.tensorflow.DataType.INT32)
                    .setAttr("value", t).build().output(0);
        }
    }

    /** Adds the op {@code type} named {@code name} on the inputs; its first output. */
    public static Output<?> op(Graph g, String type, String name, Output<?>... in) {
        var b = g.opBuilder(type, name);
        for (Output<?> i : in) {
            b.addInput(i);
        }
        return b.build().output(0);
    }

    /**
     * Google BERT's GELU (modeling.py) of {@code x}, as TF builds it, its ops named under {@code gelu/}:
     * {@code x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))}.
     */
    public static Output<?> bertGelu(Graph g, Output<?> x) {
        Output<?> cube = op(g, "Pow", "gelu/Pow", x, constant(g, "gelu/three", Nd4j.scalar(3f)));
        Output<?> inner = op(g, "Add", "gelu/add", x,
                op(g, "Mul", "gelu/mul", constant(g, "gelu/c", Nd4j.scalar(0.044715f)), cube));
        Output<?> t = op(g, "Tanh", "gelu/Tanh", op(g, "Mul", "gelu/mul_1",
                constant(g, "gelu/s", Nd4j.scalar((float) Math.sqrt(2 / Math.PI))), inner));
        Output<?> cdf = op(g, "Mul", "gelu/mul_2", constant(g, "gelu/half", Nd4j.scalar(0.5f)),
                op(g, "Add", "gelu/add_1", constant(g, "gelu/one", Nd4j.scalar(1f)), t));
        return op(g, "Mul", "gelu/mul_3", x, cdf);
    }

    public static GraphDef graphDef(Graph g) {
        try {
            return GraphDef.parseFrom(g.toGraphDef());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static SameDiff importGraph(GraphDef g) {
        return new TensorflowFrameworkImporter().importFromGraph(g, Collections.emptyMap());
    }

    /** A TF graph of one op on one constant, and what TF computes for it. */
    public record OneOp(GraphDef graph, INDArray expected) {
    }

    /** {@code output = type(input)} built and run in the TF runtime. */
    public static OneOp oneOp(String type, String inputName, INDArray input, String output) {
        TfRuntime.load();
        try (Graph g = new Graph()) {
            g.opBuilder(type, output).addInput(constant(g, inputName, input)).build();
            return new OneOp(graphDef(g), runTf(g, output));
        }
    }

    /** Runs {@code fetch} in TF. */
    public static INDArray runTf(Graph g, String fetch) {
        try (Session s = new Session(g)) {
            List<Tensor<?>> out = s.runner().fetch(fetch).run();
            try (Tensor<?> t = out.get(0)) {
                return TfRuntime.toNd4j(t);
            }
        }
    }

    public static INDArray random(long seed, long... shape) {
        return Nd4j.getRandomFactory().getNewRandomInstance(seed).nextGaussian(shape)
                .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    /**
     * Worst difference between {@code analytic}'s back-propagated gradient of its {@code loss} with respect to
     * {@code input} and central finite differences of {@code reference}'s {@code loss}.
     */
    public static double worstGradientError(SameDiff analytic, SameDiff reference, String input) {
        INDArray gradient = analytic.calculateGradients(java.util.Map.of(), input).get(input).dup();
        INDArray x = reference.getVariable(input).getArr();
        double eps = 1e-2;
        double worst = 0;
        for (long i = 0; i < x.length(); i++) {
            double v = x.getDouble(i);
            x.putScalar(i, v + eps);
            double up = reference.output(java.util.Map.of(), "loss").get("loss").getDouble(0);
            x.putScalar(i, v - eps);
            double down = reference.output(java.util.Map.of(), "loss").get("loss").getDouble(0);
            x.putScalar(i, v);
            worst = Math.max(worst, Math.abs((up - down) / (2 * eps) - gradient.getDouble(i)));
        }
        return worst;
    }

    /** The graph saved to a flatbuffers file and loaded back, with its loss variable set again. */
    public static SameDiff saveAndLoad(SameDiff sd) throws java.io.IOException {
        java.io.File file = java.nio.file.Files.createTempFile("tiny-graph", ".fb").toFile();
        try {
            sd.save(file, false);
            SameDiff loaded = SameDiff.load(file, false);
            loaded.setLossVariables("loss");
            return loaded;
        } finally {
            file.delete();
        }
    }
}
