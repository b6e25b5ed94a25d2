package dev.bertclf.nd4jfix.repair;

import dev.bertclf.graph.TfNodeNames;
import org.tensorflow.framework.GraphDef;
import org.tensorflow.framework.NodeDef;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes {@code Identity} and {@code Assert} nodes from a GraphDef before import: consumers of an Identity read
 * its input instead, and control edges to removed nodes are dropped.
 *
 * <p><b>Symptom:</b> {@code sd.fit} fails with {@code NullPointerException ... "gradient" is null} in
 * {@code AdamUpdater.applyUpdater}.
 * <p><b>Cause:</b> the Identity nodes left by freezing (one per resource-variable read) and the sequence-length
 * Assert reach M2.1's importer, whose gradient function then has no gradient for the weights behind them. Which of
 * the two causes it was not isolated; with both removed {@code fit} runs.
 * <p><b>Guarded by:</b> {@code GraphDefsTest} (what is removed and rewired) and every training test.
 * <p><b>Remove when:</b> a newer ND4J trains through imported Identity and Assert nodes.
 */
public final class StripIdentityAndAssert {
    private StripIdentityAndAssert() {
    }

    /** The GraphDef without its Identity and Assert nodes, except those named in {@code keep}. */
    public static GraphDef apply(GraphDef g, Set<String> keep) {
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
            if (!removed.contains(n.getName())) {
                out.add(rewired(n, removed, forward));
            }
        }
        return g.toBuilder().clearNode().addAllNode(out).build();
    }

    private static NodeDef rewired(NodeDef n, Set<String> removed, Map<String, String> forward) {
        NodeDef.Builder b = n.toBuilder().clearInput();
        for (String in : n.getInputList()) {
            if (!in.startsWith("^")) {
                b.addInput(resolve(in, forward));
            } else if (!removed.contains(TfNodeNames.nodeOf(in))) {
                b.addInput(in);
            }
        }
        return b.build();
    }

    /** Follows a chain of removed Identity nodes to the tensor it forwards. */
    private static String resolve(String input, Map<String, String> forward) {
        String s = input;
        for (int guard = 0; guard < 10_000; guard++) {
            String target = forward.get(TfNodeNames.nodeOf(s));
            if (target == null) {
                return s;
            }
            s = target;
        }
        throw new IllegalArgumentException("Identity cycle at " + input);
    }
}
