package dev.bertclf.nd4jfix.repair;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.internal.memory.ArrayCacheMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * M2.1's SameDiff array cache corrupts results; {@code -Dorg.nd4j.autodiff.samediff=false} turns it off. This test
 * runs in the Surefire JVM, so it proves the build's JVM has it (the launchers set it too, through
 * ArrayCacheOff.apply).
 */
class ArrayCacheOffTest {
    @Test
    void propertyIsSetInThisJvm() {
        assertEquals("false", System.getProperty(ArrayCacheOff.PROPERTY));
    }

    @Test
    void releasedArraysAreClosedNotReused() {
        ArrayCacheMemoryMgr mgr = new ArrayCacheMemoryMgr();
        INDArray a = mgr.allocate(false, DataType.FLOAT, 64, 64);
        mgr.release(a);
        assertTrue(a.wasClosed(), "with the cache off a released array is closed");
        INDArray b = mgr.allocate(false, DataType.FLOAT, 64, 64);
        assertNotSame(a, b, "a released array is never handed out again");
    }

    @Test
    void mavenJvmConfigSetsItForExecJava() throws Exception {
        String jvmConfig = java.nio.file.Files.readString(java.nio.file.Path.of(".mvn/jvm.config"));
        assertTrue(jvmConfig.contains("-D" + ArrayCacheOff.PROPERTY + "=false"), jvmConfig);
    }
}
