package dev.bertclf.nd4jfix.repair;

import dev.bertclf.RealBert;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.data.LabeledText;
import dev.bertclf.model.Classifier;
import dev.bertclf.nd4jfix.speed.OutputArrayReuse;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A released classifier's graph holds no native memory: weights, constants and its session's pooled outputs. */
@Tag("slow")
class GraphMemoryReleaseTest {
    @Test
    void releasingAClassifierClosesEveryArrayOfItsGraphAndItsSessionPool() throws Exception {
        RunFolder run = RealBert.tinyRun();
        List<String> texts = RealBert.reviews(RealBert.IMDB_TEST, 4).stream().map(LabeledText::text).toList();
        Classifier c = run.classifier(Precision.FP32);
        float[][] first = c.predict(texts);
        List<INDArray> arrays = new ArrayList<>();
        for (SDVariable v : c.graph().variables()) {
            INDArray a = v.getArr();
            if (a != null && (v.isConstant() || v.getVariableType().name().equals("VARIABLE"))) {
                arrays.add(a);
            }
        }
        long pooled = OutputArrayReuse.pooledBytes();
        assertTrue(arrays.size() > 20, "the graph's weights: " + arrays.size());
        assertTrue(pooled > 0, "the pass left outputs in its session's pool");
        assertEquals(1, c.graph().getSessions().size());

        c.release();

        for (INDArray a : arrays) {
            assertTrue(a.wasClosed(), "closed: " + a.shapeInfoToString());
        }
        assertTrue(c.graph().getSessions().isEmpty());
        assertTrue(OutputArrayReuse.pooledBytes() < pooled, "the pool's arrays were freed: "
                + OutputArrayReuse.pooledBytes() + " of " + pooled + " bytes left");
        try (Classifier again = run.classifier(Precision.FP32)) {
            float[][] second = again.predict(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(first[i], second[i], 0f, "text " + i + ", from a graph loaded afresh");
            }
        }
    }
}
