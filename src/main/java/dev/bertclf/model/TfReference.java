package dev.bertclf.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.framework.GraphDef;

import java.util.Map;

/**
 * A frozen BERT GraphDef run by the real TensorFlow 1.15 runtime: the reference SameDiff is checked against.
 * Outputs are named {@link GraphNames#POOLED} {@code [batch, hidden]} and {@link GraphNames#SEQUENCE}
 * {@code [batch, seqLen, hidden]}.
 */
public final class TfReference implements AutoCloseable {
    private final Graph graph;
    private final Session session;
    private final ModelDescriptor.Tensors names;

    /** @param threads intra-op threads (0 = TensorFlow's default) */
    public TfReference(GraphDef frozen, ModelDescriptor.Tensors names, int threads) {
        TfRuntime.load();
        this.names = names;
        this.graph = new Graph();
        try {
            graph.importGraphDef(frozen.toByteArray());
        } catch (IllegalArgumentException e) {
            graph.close();
            throw new ModelException("TensorFlow cannot load the frozen graph: " + e.getMessage(), e);
        }
        this.session = new Session(graph, TfRuntime.sessionConfig(threads));
    }

    /** Runs int32 inputs {@code [batch, seqLen]} through the graph. */
    public Map<String, INDArray> run(INDArray ids, INDArray mask, INDArray segments) {
        return GraphFreezer.run(session, names, ids, mask, segments);
    }

    @Override
    public void close() {
        session.close();
        graph.close();
    }
}
