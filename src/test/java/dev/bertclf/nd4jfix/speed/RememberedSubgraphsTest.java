package dev.bertclf.nd4jfix.speed;

import dev.bertclf.graph.GraphSurgery;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Inference sessions work out the part of the graph requested outputs need once, and again when the graph changes;
 * expected values are computed with plain ND4J array ops.
 */
class RememberedSubgraphsTest {
    private final INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3);
    private final Map<String, INDArray> in = Map.of("x", x);

    @Test
    void aRepeatedCallWorksTheSubgraphOutOnce() {
        SameDiff sd = SameDiff.create();
        sd.math().tanh(sd.placeHolder("x", DataType.FLOAT, 2, 3)).mul("out", 2.0);
        OutputArrayReuse.Session session = sessionOf(sd);

        for (int call = 0; call < 3; call++) {
            assertEquals(Transforms.tanh(x, true).mul(2.0), sd.output(in, "out").get("out"), "call " + call);
        }
        assertEquals(1, session.subgraphsWorkedOut());
    }

    @Test
    void aGraphChangedBetweenCallsIsWorkedOutAgainAndGivesTheChangedGraphsOutput() {
        SameDiff sd = SameDiff.create();
        SDVariable in0 = sd.placeHolder("x", DataType.FLOAT, 2, 3);
        in0.mul("out", 2.0);
        OutputArrayReuse.Session session = sessionOf(sd);
        assertEquals(x.mul(2.0), sd.output(in, "out").get("out"));

        // "out" is now x + 1, computed by another op; the multiply is gone
        GraphSurgery.withoutEagerMode(sd, g -> {
            GraphSurgery.replace(g, "out", in0.add(1.0));
            return 1;
        });

        assertEquals(x.add(1.0), sd.output(in, "out").get("out"));
        assertEquals(2, session.subgraphsWorkedOut());
    }

    @Test
    void anotherSetOfRequestedOutputsIsWorkedOutOnItsOwn() {
        SameDiff sd = SameDiff.create();
        SDVariable a = sd.math().tanh("a", sd.placeHolder("x", DataType.FLOAT, 2, 3));
        a.mul("b", 2.0);
        OutputArrayReuse.Session session = sessionOf(sd);
        INDArray expectedA = Transforms.tanh(x, true);

        assertEquals(expectedA, sd.output(in, "a").get("a"));
        Map<String, INDArray> both = sd.output(in, "a", "b");
        assertEquals(expectedA, both.get("a"));
        assertEquals(expectedA.mul(2.0), both.get("b"));
        assertEquals(expectedA, sd.output(in, "a").get("a"));
        assertEquals(2, session.subgraphsWorkedOut(), "{a} and {a, b}, each once");
    }

    /**
     * A session of this class for {@code sd} on this thread, as {@code SavedGraphs.load} arranges for loaded graphs.
     */
    private static OutputArrayReuse.Session sessionOf(SameDiff sd) {
        OutputArrayReuse.Session session = new OutputArrayReuse.Session(sd);
        sd.getSessions().put(Thread.currentThread().getId(), session);
        return session;
    }
}
