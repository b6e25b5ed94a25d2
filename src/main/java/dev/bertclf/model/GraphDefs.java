package dev.bertclf.model;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.graph.TfNodeNames;
import dev.bertclf.io.AtomicFiles;

import org.nd4j.shade.protobuf.InvalidProtocolBufferException;
import org.tensorflow.framework.GraphDef;
import org.tensorflow.framework.NodeDef;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** GraphDef handling before import: reading, pruning to the outputs, removing what SameDiff cannot train through. */
public final class GraphDefs {
    private GraphDefs() {
    }

    /** Reads a binary GraphDef, naming the file when it is missing or not a GraphDef. */
    public static GraphDef read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelException("Frozen graph not found: " + file.toAbsolutePath());
        }
        try {
            GraphDef g = GraphDef.parseFrom(Files.readAllBytes(file));
            if (g.getNodeCount() == 0) {
                throw new ModelException("Frozen graph " + file.toAbsolutePath() + " has no nodes (not a GraphDef?)");
            }
            return g;
        } catch (InvalidProtocolBufferException e) {
            throw new ModelException("Frozen graph " + file.toAbsolutePath() + " is corrupt or not a binary GraphDef: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new ModelException("Cannot read frozen graph " + file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    public static Map<String, NodeDef> byName(GraphDef g) {
        Map<String, NodeDef> m = new LinkedHashMap<>();
        for (NodeDef n : g.getNodeList()) {
            m.put(n.getName(), n);
        }
        return m;
    }

    /** Names of the nodes the outputs depend on (data and control inputs), failing fast on a missing output. */
    public static Set<String> reachable(Map<String, NodeDef> nodes, Collection<String> outputs) {
        for (String o : outputs) {
            if (!nodes.containsKey(o)) {
                throw new ModelException("Graph has no tensor named '" + o + "'");
            }
        }
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(outputs);
        while (!todo.isEmpty()) {
            String n = todo.pop();
            if (seen.add(n) && nodes.containsKey(n)) {
                for (String in : nodes.get(n).getInputList()) {
                    todo.push(TfNodeNames.nodeOf(in));
                }
            }
        }
        return seen;
    }

    /**
     * Removes what SameDiff cannot train through ({@code nd4jfix.repair.StripIdentityAndAssert}), then prunes what the outputs no
     * longer need. Nodes named in {@code keep} stay.
     */
    public static GraphDef clean(GraphDef g, Collection<String> outputs, Set<String> keep) {
        GraphDef stripped = Engine.trainable(g, keep);
        Set<String> live = reachable(byName(stripped), outputs);
        List<NodeDef> pruned = new ArrayList<>();
        for (NodeDef n : stripped.getNodeList()) {
            if (live.contains(n.getName())) {
                pruned.add(n);
            }
        }
        if (g.getNodeCount() > 0 && pruned.isEmpty()) {
            throw new ModelException("Cleaning removed every node");
        }
        return g.toBuilder().clearNode().addAllNode(pruned).build();
    }

    /** Writes a GraphDef atomically. */
    public static void write(GraphDef g, Path file) {
        AtomicFiles.write(file, out -> g.writeTo(out));
    }
}
