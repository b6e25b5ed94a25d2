package dev.bertclf.train;

import dev.bertclf.model.ModelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoint arrays come back bit for bit, views and 'f'-order arrays included; a damaged file is named. */
class ArrayFileTest {
    @TempDir
    Path tmp;

    @Test
    void arraysComeBackExactlyWithTheirNamesShapesAndTypes() {
        INDArray matrix = Nd4j.rand(DataType.FLOAT, 3, 5);
        INDArray whole = Nd4j.rand(DataType.FLOAT, 1, 20);
        INDArray view = whole.get(NDArrayIndex.point(0), NDArrayIndex.interval(10, 20)).reshape(2, 5);
        INDArray fOrder = Nd4j.rand(DataType.DOUBLE, 4, 3).dup('f');
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        arrays.put("bert/encoder/layer_0/kernel", matrix);
        arrays.put("bert/encoder/layer_0/kernel::M", view);
        arrays.put("scores", fOrder);
        arrays.put("scalar", Nd4j.scalar(2.5f));
        Path file = tmp.resolve("arrays.bin");
        ArrayFile.write(file, arrays);

        Map<String, INDArray> back = ArrayFile.read(file);
        assertEquals(List.copyOf(arrays.keySet()), List.copyOf(back.keySet()));
        for (String name : arrays.keySet()) {
            INDArray a = arrays.get(name);
            INDArray b = back.get(name);
            assertEquals(a.dataType(), b.dataType(), name);
            assertArrayEquals(a.shape(), b.shape(), name);
            assertArrayEquals(a.dup('c').data().asBytes(), b.data().asBytes(), name + ": same bits");
        }
    }

    @Test
    void aFileCutShortIsRefusedNamingIt() throws Exception {
        Path file = tmp.resolve("weights.bin");
        ArrayFile.write(file, Map.of("w", Nd4j.rand(DataType.FLOAT, 100, 100)));
        byte[] all = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(all, all.length / 2));
        ModelException e = assertThrows(ModelException.class, () -> ArrayFile.read(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("cut short"), e.getMessage());
    }

    @Test
    void aFileOfAnotherKindIsRefusedNamingIt() throws Exception {
        Path file = tmp.resolve("model.fb");
        Files.write(file, new byte[1000]);
        ModelException e = assertThrows(ModelException.class, () -> ArrayFile.read(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }
}
