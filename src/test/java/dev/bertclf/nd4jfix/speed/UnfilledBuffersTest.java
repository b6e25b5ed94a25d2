package dev.bertclf.nd4jfix.speed;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Float arrays asked for without initial values come from unfilled memory, which ops compute into as into any other
 * and which is freed when the array is closed; arrays asked for with zeros still hold zeros.
 */
class UnfilledBuffersTest {
    @BeforeAll
    static void install() {
        assertTrue(UnfilledBuffers.install(), "the CPU backend's factory was replaced");
    }

    @Test
    void uninitializedFloatArraysAreUnfilledAndFreedWhenClosed() {
        long before = UnfilledBuffers.live();
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, 256, 128);
        assertInstanceOf(UnfilledBufferFactory.Unfilled.class, a.data());
        assertEquals(before + 1, UnfilledBuffers.live());
        a.close();
        assertEquals(before, UnfilledBuffers.live(), "closing the array freed its memory");
        INDArray small = Nd4j.createUninitialized(DataType.FLOAT, 4, 4);
        assertNotEquals(UnfilledBufferFactory.Unfilled.class, small.data().getClass(), "small ones keep libnd4j's");
        INDArray doubles = Nd4j.createUninitialized(DataType.DOUBLE, 256, 128);
        assertNotEquals(UnfilledBufferFactory.Unfilled.class, doubles.data().getClass());
    }

    @Test
    void opsAndViewsOnUnfilledArraysGiveWhatTheyGiveOnLibnd4jsArrays() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 256, 128);
        INDArray y = Nd4j.rand(DataType.FLOAT, 128, 192);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 256, 192);
        assertInstanceOf(UnfilledBufferFactory.Unfilled.class, out.data());
        Nd4j.gemm(x, y, out, false, false, 1.0, 0.0);
        INDArray reference = Nd4j.zeros(DataType.FLOAT, 256, 192);
        Nd4j.gemm(x, y, reference, false, false, 1.0, 0.0);
        assertEquals(reference, out);
        INDArray copy = Nd4j.createUninitialized(DataType.FLOAT, 256, 128).assign(x);
        assertEquals(x.get(NDArrayIndex.interval(3, 9), NDArrayIndex.interval(5, 70)),
                copy.get(NDArrayIndex.interval(3, 9), NDArrayIndex.interval(5, 70)), "a view reads the right values");
        assertEquals(x.mul(2).sumNumber().doubleValue(), copy.muli(2).sumNumber().doubleValue(), 1e-2);
    }

    @Test
    void arraysAskedForWithZerosHoldZerosEvenOnReusedMemory() {
        for (int i = 0; i < 20; i++) {
            // freed unfilled memory full of ones, then arrays of zeros of the same size
            Nd4j.createUninitialized(DataType.FLOAT, 512, 512).assign(1).close();
            INDArray zeros = Nd4j.zeros(DataType.FLOAT, 512, 512);
            assertEquals(0.0, zeros.sumNumber().doubleValue());
            assertEquals(0.0, Nd4j.create(DataType.FLOAT, 512, 512).sumNumber().doubleValue());
        }
    }
}
