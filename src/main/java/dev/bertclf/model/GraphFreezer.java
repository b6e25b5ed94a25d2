package dev.bertclf.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;
import org.nd4j.shade.protobuf.InvalidProtocolBufferException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.TensorFlowException;
import org.tensorflow.framework.AttrValue;
import org.tensorflow.framework.DataType;
import org.tensorflow.framework.GraphDef;
import org.tensorflow.framework.MetaGraphDef;
import org.tensorflow.framework.NodeDef;
import org.tensorflow.framework.TensorProto;
import org.tensorflow.framework.TensorShapeProto;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a TF1 SavedModel (resource variables, TF-Hub module) into a frozen GraphDef with the real TensorFlow
 * runtime: variables become constants, resource reads and gathers become plain ops, and the graph is pruned to
 * the pooled and sequence outputs. Assert and Identity nodes are removed afterwards by {@link GraphDefs#clean}.
 */
public final class GraphFreezer {
    private static final Logger log = LoggerFactory.getLogger(GraphFreezer.class);

    private GraphFreezer() {
    }

    /**
     * Freezes the SavedModel in {@code savedModelDir}.
     *
     * @return the frozen GraphDef, placeholders relaxed to {@code [-1, -1]}
     */
    public static GraphDef freeze(Path savedModelDir, String tag, ModelDescriptor.Tensors names) {
        TfRuntime.load();
        if (!Files.isRegularFile(savedModelDir.resolve("saved_model.pb"))) {
            throw new ModelException("Not a SavedModel folder (no saved_model.pb): " + savedModelDir.toAbsolutePath());
        }
        try (SavedModelBundle bundle = SavedModelBundle.loader(savedModelDir.toString()).withTags(tag)
                .withConfigProto(TfRuntime.sessionConfig(0)).load()) {
            GraphDef graph = MetaGraphDef.parseFrom(bundle.metaGraphDef()).getGraphDef();
            Map<String, NodeDef> nodes = GraphDefs.byName(graph);
            Set<String> reachable = GraphDefs.reachable(nodes, List.of(names.pooled(), names.sequence()));
            List<String> variables = new ArrayList<>();
            for (String n : reachable) {
                if (nodes.get(n).getOp().equals("VarHandleOp")) {
                    variables.add(n);
                }
            }
            Map<String, TensorProto> values = readVariables(bundle, nodes, variables);
            List<NodeDef> out = new ArrayList<>();
            for (NodeDef n : graph.getNodeList()) {
                if (reachable.contains(n.getName())) {
                    out.add(rewrite(n, values));
                }
            }
            addGatherAxes(out);
            GraphDef frozen = graph.toBuilder().clearNode().addAllNode(out).build();
            log.info("Froze {}: {} variables to constants, {} of {} nodes kept", savedModelDir, variables.size(),
                    out.size(), graph.getNodeCount());
            return frozen;
        } catch (TensorFlowException e) {
            throw new ModelException("Cannot load SavedModel " + savedModelDir.toAbsolutePath() + " with tag '" + tag
                    + "': " + e.getMessage(), e);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelException("Corrupt SavedModel meta graph in " + savedModelDir.toAbsolutePath(), e);
        }
    }

    /**
     * Runs the same batch through the SavedModel and the frozen graph and returns the largest absolute difference
     * over the pooled and sequence outputs.
     */
    public static double maxDifference(Path savedModelDir, String tag, GraphDef frozen, ModelDescriptor.Tensors names,
                                       INDArray ids, INDArray mask, INDArray segments) {
        TfRuntime.load();
        try (SavedModelBundle bundle = SavedModelBundle.loader(savedModelDir.toString()).withTags(tag).load();
             TfReference reference = new TfReference(frozen, names, 0)) {
            Map<String, INDArray> expected = run(bundle.session(), names, ids, mask, segments);
            Map<String, INDArray> actual = reference.run(ids, mask, segments);
            double diff = 0;
            for (String k : expected.keySet()) {
                diff = Math.max(diff, expected.get(k).sub(actual.get(k)).amaxNumber().doubleValue());
            }
            return diff;
        }
    }

    static Map<String, INDArray> run(Session session, ModelDescriptor.Tensors names, INDArray ids, INDArray mask,
                                     INDArray segments) {
        try (Tensor<Integer> i = TfRuntime.intTensor(ids); Tensor<Integer> m = TfRuntime.intTensor(mask);
             Tensor<Integer> s = TfRuntime.intTensor(segments)) {
            List<Tensor<?>> out = session.runner().feed(names.inputIds(), i).feed(names.inputMask(), m)
                    .feed(names.segmentIds(), s).fetch(names.pooled()).fetch(names.sequence()).run();
            Map<String, INDArray> result = new LinkedHashMap<>();
            result.put(GraphNames.POOLED, TfRuntime.toNd4j(out.get(0)));
            result.put(GraphNames.SEQUENCE, TfRuntime.toNd4j(out.get(1)));
            out.forEach(Tensor::close);
            return result;
        }
    }

    /** Reads every variable's current value in one session run. */
    private static Map<String, TensorProto> readVariables(SavedModelBundle bundle, Map<String, NodeDef> nodes,
                                                          List<String> variables) {
        Graph g = bundle.graph();
        Session.Runner runner = bundle.session().runner();
        for (int i = 0; i < variables.size(); i++) {
            NodeDef v = nodes.get(variables.get(i));
            org.tensorflow.DataType dtype = tfType(v.getAttrOrThrow("dtype").getType());
            Output<?> read = g.opBuilder("ReadVariableOp", "bertclf_freeze_read_" + i)
                    .addInput(g.operation(v.getName()).output(0)).setAttr("dtype", dtype).build().output(0);
            runner.fetch(read);
        }
        List<Tensor<?>> tensors = runner.run();
        Map<String, TensorProto> values = new LinkedHashMap<>();
        for (int i = 0; i < variables.size(); i++) {
            try (Tensor<?> t = tensors.get(i)) {
                NodeDef v = nodes.get(variables.get(i));
                TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
                for (long d : t.shape()) {
                    shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
                }
                values.put(v.getName(), TensorProto.newBuilder().setDtype(v.getAttrOrThrow("dtype").getType())
                        .setTensorShape(shape).setTensorContent(ByteString.copyFrom(TfRuntime.bytes(t))).build());
            }
        }
        return values;
    }

    private static NodeDef rewrite(NodeDef n, Map<String, TensorProto> values) {
        NodeDef.Builder b = n.toBuilder().removeAttr("_class");
        switch (n.getOp()) {
            case "VarHandleOp" -> {
                TensorProto value = values.get(n.getName());
                b.setOp("Const").clearAttr().clearInput()
                        .putAttr("dtype", AttrValue.newBuilder().setType(value.getDtype()).build())
                        .putAttr("value", AttrValue.newBuilder().setTensor(value).build());
            }
            case "ReadVariableOp" -> b.setOp("Identity").clearAttr().putAttr("T", n.getAttrOrThrow("dtype"));
            case "ResourceGather" -> b.setOp("GatherV2").clearAttr()
                    .putAttr("Tparams", n.getAttrOrThrow("dtype"))
                    .putAttr("Tindices", n.getAttrOrThrow("Tindices"))
                    .putAttr("Taxis", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
                    .addInput(n.getName() + "/bertclf_axis");
            case "Placeholder" -> {
                TensorShapeProto shape = n.getAttrOrThrow("shape").getShape();
                TensorShapeProto.Builder relaxed = TensorShapeProto.newBuilder();
                for (int i = 0; i < shape.getDimCount(); i++) {
                    relaxed.addDim(TensorShapeProto.Dim.newBuilder().setSize(-1));
                }
                b.putAttr("shape", AttrValue.newBuilder().setShape(relaxed).build());
            }
            default -> {
            }
        }
        return b.build();
    }

    /** Adds the constant {@code axis = 0} input that each rewritten GatherV2 refers to. */
    private static void addGatherAxes(List<NodeDef> nodes) {
        List<NodeDef> axes = new ArrayList<>();
        for (NodeDef n : nodes) {
            for (String in : n.getInputList()) {
                if (in.endsWith("/bertclf_axis")) {
                    axes.add(NodeDef.newBuilder().setName(in).setOp("Const")
                            .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
                            .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder()
                                    .setDtype(DataType.DT_INT32).addIntVal(0)
                                    .setTensorShape(TensorShapeProto.getDefaultInstance())).build()).build());
                }
            }
        }
        nodes.addAll(0, axes);
    }

    private static org.tensorflow.DataType tfType(DataType t) {
        return switch (t) {
            case DT_FLOAT -> org.tensorflow.DataType.FLOAT;
            case DT_INT32 -> org.tensorflow.DataType.INT32;
            case DT_INT64 -> org.tensorflow.DataType.INT64;
            case DT_DOUBLE -> org.tensorflow.DataType.DOUBLE;
            default -> throw new ModelException("Unsupported variable type " + t);
        };
    }
}
