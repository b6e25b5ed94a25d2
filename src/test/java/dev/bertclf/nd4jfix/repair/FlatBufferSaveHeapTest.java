package dev.bertclf.nd4jfix.repair;

import dev.bertclf.io.ChildJvm;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlatBufferSaveHeapTest {
    /** A JVM's exit code and output. */
    private record Exit(int code, String output) {
    }

    private static Exit java(List<String> options, String... arguments) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java()));
        cmd.addAll(options);
        cmd.addAll(List.of(arguments));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return new Exit(p.exitValue(), out);
    }

    @Test
    void aParentsChoiceOfCollectorAndGenerationsGivesWayToTheParallelCollectorWithALargeOldGeneration()
            throws Exception {
        List<String> options = FlatBufferSaveHeap.jvmOptions(
                List.of("-Xmx512m", "-XX:+UseG1GC", "-Xmn64m", "-XX:NewRatio=2", "-Dorg.example=1"));
        assertEquals(List.of("-Xmx512m", "-Dorg.example=1", "-XX:+UseParallelGC", "-XX:NewRatio=4"), options);
        Exit flags = java(options, "-XX:+PrintFlagsFinal", "-version");
        assertEquals(0, flags.code(), flags.output());
        assertTrue(flags.output().matches("(?s).*\\bUseParallelGC\\s+= true\\b.*"), flags.output());
        assertFalse(flags.output().matches("(?s).*\\bUseG1GC\\s+= true\\b.*"), flags.output());
        assertTrue(flags.output().matches("(?s).*\\bNewRatio\\s+= 4\\b.*"), flags.output());
    }

    @Test
    void aHeapFragmentedByLargeArraysGivesOneLargerThanAnyGapUnderTheseOptionsButNotUnderG1() throws Exception {
        List<String> probe = List.of("-cp", System.getProperty("java.class.path"),
                FlatBufferSaveHeapProbe.class.getName());
        List<String> options = new ArrayList<>(FlatBufferSaveHeap.jvmOptions(List.of("-Xmx256m")));
        options.addAll(probe);
        Exit parallel = java(options);
        assertEquals(0, parallel.code(), parallel.output());
        assertTrue(parallel.output().contains("allocated"), parallel.output());

        List<String> g1 = new ArrayList<>(List.of("-Xmx256m", "-XX:+UseG1GC"));
        g1.addAll(probe);
        Exit withG1 = java(g1);
        assertNotEquals(0, withG1.code(), withG1.output());
        assertTrue(withG1.output().contains("OutOfMemoryError"), withG1.output());
    }
}
