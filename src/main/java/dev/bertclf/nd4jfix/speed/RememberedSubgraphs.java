package dev.bertclf.nd4jfix.speed;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which variables and ops a set of requested outputs needs, worked out once per set and graph instead of on every
 * {@code sd.output} call; used by {@link OutputArrayReuse.Session}, so by every inference session of a loaded graph.
 *
 * <p><b>Symptom:</b> a forward pass of a short text (the serving case) spends a noticeable share of its time in M2.1's
 * {@code AbstractSession.initSubgraph} (Java Flight Recorder), before any op runs.
 * <p><b>Cause:</b> M2.1's session recomputes that subgraph on every call, walking back from the requested outputs with
 * a lookup in SameDiff's {@code PatriciaTrie} and a regular expression ({@code VariableUtils.stripVarSuffix}) per
 * variable, though the result depends only on the graph and the requested outputs.
 * <p><b>Fix:</b> {@link #fill} remembers the three sets M2.1 computes (variables, ops, ops without inputs) per list of
 * requested outputs, with a fingerprint of the graph's structure (each op's name, inputs, outputs and control
 * dependencies; each variable's control dependencies), and replays them, in M2.1's order, while the fingerprint is
 * unchanged; a changed graph is worked out again. The fingerprint costs far less than the work it saves; short passes
 * are faster, long ones unchanged (docs/performance.md, "Per-call work of a short pass").
 * <p><b>Guarded by:</b> {@code RememberedSubgraphsTest} (a repeated call is worked out once; a graph changed between
 * calls is worked out again and gives the changed graph's output; another requested set is worked out on its own),
 * {@code OutputArrayReuseTest} and {@code BertParityTest}, whose repeated calls run through these sessions.
 * <p><b>Remove when:</b> a newer ND4J keeps the subgraph between calls itself, or {@code initSubgraph} no longer shows
 * in a short pass's profile.
 */
final class RememberedSubgraphs {
    private record Remembered(long fingerprint, List<String> variables, List<String> ops, List<String> zeroInputOps) {
    }

    private final Map<List<String>, Remembered> byRequested = new HashMap<>();
    private int workedOut;

    /**
     * Fills {@code variables}, {@code ops} and {@code zeroInputOps} for {@code requested} as {@code workOut} (M2.1's
     * {@code initSubgraph}, which fills the same sets) would: by running it the first time and whenever the graph
     * changed, by replaying what it added otherwise.
     */
    void fill(SameDiff sd, Set<String> requested, Runnable workOut, Set<String> variables, Set<String> ops,
              Set<String> zeroInputOps) {
        long fingerprint = fingerprint(sd);
        List<String> key = List.copyOf(requested);
        Remembered r = byRequested.get(key);
        if (r != null && r.fingerprint() == fingerprint) {
            variables.addAll(r.variables());
            ops.addAll(r.ops());
            zeroInputOps.addAll(r.zeroInputOps());
            return;
        }
        workOut.run();
        workedOut++;
        byRequested.put(key, new Remembered(fingerprint, List.copyOf(variables), List.copyOf(ops),
                List.copyOf(zeroInputOps)));
    }

    /** How many times the subgraph was worked out rather than replayed (for tests). */
    int workedOut() {
        return workedOut;
    }

    /** What the subgraph of any requested set depends on: ops' names, inputs, outputs and control dependencies. */
    static long fingerprint(SameDiff sd) {
        long h = sd.getOps().size() * 1_000_003L + sd.getVariables().size();
        for (SameDiffOp op : sd.getOps().values()) {
            h = h * 1_000_003L + Objects.hash(op.getName(), op.getInputsToOp(), op.getOutputsOfOp(),
                    op.getControlDeps());
        }
        for (Variable v : sd.getVariables().values()) {
            if (v.getControlDeps() != null && !v.getControlDeps().isEmpty()) {
                h = h * 1_000_003L + Objects.hash(v.getName(), v.getControlDeps());
            }
        }
        return h;
    }
}
