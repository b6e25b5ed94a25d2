package dev.bertclf.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SavedGraphsTest {
    @TempDir
    Path tmp;

    /** A dense layer whose weights span several of {@link SavedGraphs#CHUNK_BYTES}. */
    static SameDiff denseLayer() {
        Nd4j.getRandom().setSeed(7);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 768);
        SDVariable w = sd.var("w", Nd4j.rand(DataType.FLOAT, 768, 1000));
        SDVariable b = sd.var("b", Nd4j.rand(DataType.FLOAT, 1000));
        x.mmul(w).add("y", b);
        return sd;
    }

    @Test
    void aSavedGraphIsByteForByteWhatSameDiffSaveWritesAndLoadsBackToTheSameOutputs() throws Exception {
        SameDiff sd = denseLayer();
        assertTrue(768 * 1000 * Float.BYTES > 2 * SavedGraphs.CHUNK_BYTES, "the image spans several chunks");
        Path reference = tmp.resolve("reference.fb");
        sd.save(reference.toFile(), false);
        Path saved = tmp.resolve("saved.fb");

        SavedGraphs.save(sd, saved);

        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(saved));
        INDArray x = Nd4j.rand(DataType.FLOAT, 3, 768);
        assertEquals(sd.output(Map.of("x", x), "y").get("y"),
                SavedGraphs.load(saved).output(Map.of("x", x), "y").get("y"));
        try (var files = Files.list(tmp)) {
            assertEquals(2, files.count(), "no temporary file left beside the saved one");
        }
    }
}
