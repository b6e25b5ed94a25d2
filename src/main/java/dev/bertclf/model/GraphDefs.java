package dev.bertclf.model;

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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** GraphDef surgery done before import: pruning to outputs and removing what SameDiff cannot train through. */
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

    /** The node a GraphDef input string refers to ({@code ^x}, {@code x:1} → {@code x}). */
    static String nodeOf(String input) {
        String s = input.startsWith("^") ? input.substring(1) : input;
        int colon = s.lastIndexOf(':');
        return colon > 0 && s.substring(colon + 1).chars().allMatch(Character::isDigit) ? s.substring(0, colon) : s;
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
                    todo.push(nodeOf(in));
                }
            }
        }
        return seen;
    }

    /**
     * Removes Assert and Identity nodes (left by resource reads and the sequence-length check; with them SameDiff's
     * fit fails with a null gradient) (consumers are rewired to the Identity's input, control edges to removed
     * nodes dropped) and prunes what the outputs no longer need. Nodes named in {@code keep} stay.
     */
    public static GraphDef clean(GraphDef g, Collection<String> outputs, Set<String> keep) {
        Map<String, NodeDef> nodes = byName(g);
        Map<String, String> forward = new HashMap<>();
        for (NodeDef n : g.getNodeList()) {
            if (n.getOp().equals("Identity") && !keep.contains(n.getName())) {
                forward.put(n.getName(), n.getInput(0));
            }
        }
        Set<String> removed = new LinkedHashSet<>(forward.keySet());
        for (NodeDef n : g.getNodeList()) {
            if (n.getOp().equals("Assert") && !keep.contains(n.getName())) {
                removed.add(n.getName());
            }
        }
        List<NodeDef> out = new ArrayList<>();
        for (NodeDef n : g.getNodeList()) {
            if (removed.contains(n.getName())) {
                continue;
            }
            NodeDef.Builder b = n.toBuilder().clearInput();
            for (String in : n.getInputList()) {
                if (in.startsWith("^")) {
                    if (!removed.contains(nodeOf(in))) {
                        b.addInput(in);
                    }
                } else {
                    b.addInput(resolve(in, forward));
                }
            }
            out.add(b.build());
        }
        Map<String, NodeDef> cleaned = byName(g.toBuilder().clearNode().addAllNode(out).build());
        Set<String> live = reachable(cleaned, outputs);
        List<NodeDef> pruned = new ArrayList<>();
        for (NodeDef n : out) {
            if (live.contains(n.getName())) {
                pruned.add(n);
            }
        }
        if (!nodes.isEmpty() && pruned.isEmpty()) {
            throw new ModelException("Cleaning removed every node");
        }
        return g.toBuilder().clearNode().addAllNode(pruned).build();
    }

    private static String resolve(String input, Map<String, String> forward) {
        String s = input;
        for (int guard = 0; guard < 10_000; guard++) {
            String node = nodeOf(s);
            String target = forward.get(node);
            if (target == null) {
                return s;
            }
            s = target;
        }
        throw new ModelException("Identity cycle at " + input);
    }

    /** Writes a GraphDef atomically. */
    public static void write(GraphDef g, Path file) {
        AtomicFiles.write(file, out -> g.writeTo(out));
    }
}
