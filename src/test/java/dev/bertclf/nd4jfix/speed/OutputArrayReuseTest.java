package dev.bertclf.nd4jfix.speed;

import dev.bertclf.RealBert;
import dev.bertclf.TinyGraphs;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.GraphNames;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.TfRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import org.tensorflow.Graph;
import org.tensorflow.Output;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inference with reused output arrays gives what fresh arrays give. Released arrays are filled with NaN here, so an
 * op that reads its output's old contents, or a consumer of an array handed out again too early, shows as NaN.
 */
class OutputArrayReuseTest {
    @Test
    void aBatchedMatmulIntoAReusedArrayGivesTheFreshResult() {
        // TF's BatchMatMulV2 [2,3,4,5]·[2,3,5,4], tanh, BatchMatMulV2 [2,3,4,4]·[2,3,4,4]: the second product's output
        // reuses the first's array, and M2.1 imports both with beta = 1 (out = A·B + out)
        TfRuntime.load();
        SameDiff sd;
        try (Graph g = new Graph()) {
            Output<?> first = TinyGraphs.op(g, "BatchMatMulV2", "first",
                    TinyGraphs.constant(g, "a", Nd4j.rand(DataType.FLOAT, 2, 3, 4, 5)),
                    TinyGraphs.constant(g, "b", Nd4j.rand(DataType.FLOAT, 2, 3, 5, 4)));
            Output<?> t = TinyGraphs.op(g, "Tanh", "t", first);
            TinyGraphs.op(g, "BatchMatMulV2", "out", t, t);
            sd = TinyGraphs.importGraph(TinyGraphs.graphDef(g));
        }
        assertEquals(1.0, ((DynamicCustomOp) sd.getOpById("out")).tArgs()[1], "imported with beta = 1");

        INDArray fresh = run(sd, new InferenceSession(sd), Map.of(), "out");
        OutputArrayReuse.Pool pool = poisoned();
        INDArray reused = run(sd, new OutputArrayReuse.Session(sd, pool), Map.of(), "out");

        assertTrue(pool.heldBytes() > 0, "released arrays were pooled");
        assertEquals(fresh, reused);
    }

    @Test
    void anIdentityOutputIsNotReusedWhileItsConsumersNeedIt() {
        // the identity's output is tanh's output array itself: it must not be released under tanh's name while the
        // multiply still reads it under the identity's
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 3, 4);
        SDVariable named = sd.identity("named", sd.math().tanh(x));
        named.mul("out", 2.0);
        Map<String, INDArray> in = Map.of("x", Nd4j.rand(DataType.FLOAT, 3, 4));

        INDArray fresh = run(sd, new InferenceSession(sd), in, "out");
        INDArray reused = run(sd, new OutputArrayReuse.Session(sd, poisoned()), in, "out");

        assertEquals(fresh, reused);
    }

    @Test
    void arraysBeyondThePoolsSizeAreClosed() {
        OutputArrayReuse.Pool pool = new OutputArrayReuse.Pool(1024);
        INDArray small = pool.allocate(false, DataType.FLOAT, 16, 16);
        INDArray large = pool.allocate(false, DataType.FLOAT, 32, 32);
        pool.release(small);
        pool.release(large);
        assertFalse(small.wasClosed(), "1 KB fits");
        assertTrue(large.wasClosed(), "4 KB does not");
        assertEquals(1024, pool.heldBytes());
        pool.close();
        assertTrue(small.wasClosed());
        assertEquals(0, pool.heldBytes());
    }

    @Test
    void aMatmulCountsAsOverwritingItsOutputOnlyWithBetaZero() {
        SameDiff sd = SameDiff.create();
        SDVariable product = sd.mmul("product", sd.var("a", Nd4j.rand(DataType.FLOAT, 2, 3)),
                sd.var("b", Nd4j.rand(DataType.FLOAT, 3, 2)));
        assertTrue(OutputArrayReuse.overwritesOutputs(sd.getVariableOutputOp(product.name())), "no beta given");
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 2);
        assertTrue(OutputArrayReuse.overwritesOutputs(DynamicCustomOp.builder("matmul").addInputs(x, x)
                .addFloatingPointArguments(1.0, 0.0).build()));
        assertFalse(OutputArrayReuse.overwritesOutputs(DynamicCustomOp.builder("matmul").addInputs(x, x)
                .addFloatingPointArguments(1.0, 1.0).build()), "out = A·B + out reads its output");
        assertFalse(OutputArrayReuse.overwritesOutputs(DynamicCustomOp.builder("concat").addInputs(x, x).build()));
    }

    @Test
    void anOutputAskedForInFortranOrderGetsIt() {
        OutputArrayReuse.Pool pool = new OutputArrayReuse.Pool(1 << 20);
        pool.release(pool.allocate(false, DataType.FLOAT, 3, 4));
        INDArray f = pool.allocate(false, Nd4j.create(DataType.FLOAT, new long[]{3, 4}, 'f').shapeDescriptor());
        assertEquals('f', f.ordering());
        assertEquals(0.0, f.sumNumber().doubleValue());
        pool.close();
    }

    @Test
    void aReleasedArrayIsHandedOutForTheNextOutputOfItsShape() {
        OutputArrayReuse.Pool pool = new OutputArrayReuse.Pool(1 << 20);
        INDArray a = pool.allocate(false, DataType.FLOAT, 8, 8);
        pool.release(a);
        assertTrue(pool.allocate(false, DataType.FLOAT, 8, 4) != a, "another shape gets a new array");
        assertTrue(pool.allocate(false, DataType.FLOAT, 8, 8) == a);
        pool.close();
    }

    @Test
    @Tag("slow")
    void aClassifierGivesTheSameProbabilitiesBitForBitWithReusedArrays() throws Exception {
        // BERT-base and a head: the rank-4 products of every layer, the head reading the encoder's pooled output
        // under the name an identity op gives it, padded batches of other shapes in between
        Classifier classifier = RealBert.tinyRun().classifier(Settings.Precision.FP32);
        SameDiff sd = classifier.graph();
        Featurizer f = classifier.featurizer();
        List<String> texts = RealBert.reviews(RealBert.IMDB_TEST, 10).stream().map(LabeledText::text).toList();
        List<Featurizer.Batch> batches = List.of(f.featurize(texts.subList(0, 4), true),
                f.featurize(List.of("A gem.", "meh, not for me"), false), f.featurize(texts.subList(4, 10), true));
        sd.getSessions().remove(Thread.currentThread().getId());
        sd.output(inputs(batches.get(1)), GraphNames.PROBS);
        assertInstanceOf(OutputArrayReuse.Session.class, sd.getSessions().get(Thread.currentThread().getId()),
                "graphs loaded by SavedGraphs run through these sessions");

        List<INDArray> fresh = new ArrayList<>();
        for (Featurizer.Batch b : batches) {
            fresh.add(run(sd, new InferenceSession(sd), inputs(b), GraphNames.PROBS));
        }
        OutputArrayReuse.Session session = new OutputArrayReuse.Session(sd, poisoned());
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < batches.size(); i++) {
                assertEquals(fresh.get(i), run(sd, session, inputs(batches.get(i)), GraphNames.PROBS),
                        "pass " + pass + ", batch " + i);
            }
        }
    }

    private static OutputArrayReuse.Pool poisoned() {
        OutputArrayReuse.Pool pool = new OutputArrayReuse.Pool(OutputArrayReuse.MAX_POOLED_BYTES);
        pool.poisonReleased = true;
        return pool;
    }

    private static Map<String, INDArray> inputs(Featurizer.Batch b) {
        return Map.of(GraphNames.INPUT_IDS, b.inputIds(), GraphNames.INPUT_MASK, b.inputMask(),
                GraphNames.SEGMENT_IDS, b.segmentIds());
    }

    /** {@code output} of {@code sd} computed by {@code session}, this thread's session of {@code sd} afterwards. */
    private static INDArray run(SameDiff sd, InferenceSession session, Map<String, INDArray> in, String output) {
        sd.getSessions().put(Thread.currentThread().getId(), session);
        return sd.output(in, output).get(output).dup();
    }
}
