package dev.bertclf.io;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MallocSettingsTest {
    /** A JVM running {@link MallocSettingsProbe} without the settings in its environment. */
    private static Process probe(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java(), "-Xmx64m", "-Dbertclf.train.epochs=3", "-cp",
                System.getProperty("java.class.path"), MallocSettingsProbe.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("MALLOC_ARENA_MAX");
        pb.environment().remove("GLIBC_TUNABLES");
        return pb.start();
    }

    /** The probe's output, once it has exited with {@code code}. */
    private static String outputAndExit(Process p, int code) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(code, p.exitValue(), out);
        return out;
    }

    @Test
    void aLauncherStartedWithoutTheSettingsRunsItsCommandInAChildThatHasThem() throws Exception {
        Process p = probe("exit", "7");
        String out = outputAndExit(p, 7);
        assertTrue(out.contains("env 1 " + MallocSettings.ENVIRONMENT.get("GLIBC_TUNABLES")), out);
        assertTrue(out.contains("args exit,7"), out);
        assertTrue(out.contains("setting 3"), out);
        assertTrue(out.contains("spark local[1]"), out);
        assertFalse(out.contains("pid " + p.pid() + "\n"), "the command ran in the launcher's own JVM: " + out);
    }

    @Test
    void underSparkSubmitTheCommandRunsInTheJvmSparkStarted() throws Exception {
        Process p = probe("submitted", "0");
        String out = outputAndExit(p, 0);
        assertTrue(out.contains("pid " + p.pid() + "\n"), "the command ran in another JVM: " + out);
        assertTrue(out.contains("env null null"), out);
    }

    @Test
    void theRelaunchedCommandStopsWhenItsLauncherIsKilled() throws Exception {
        Process p = probe("sleep", "0");
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = r.readLine();
        assertTrue(line != null && line.startsWith("pid "), String.valueOf(line));
        long childPid = Long.parseLong(line.substring(4).strip());
        assertNotEquals(p.pid(), childPid);
        Optional<ProcessHandle> child = ProcessHandle.of(childPid);
        try {
            assertTrue(child.isPresent() && child.get().isAlive());
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            child.get().onExit().get(30, TimeUnit.SECONDS);
            assertFalse(child.get().isAlive());
        } finally {
            child.ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void settingsTheUserMadeAreKeptAndOtherTunablesToo() {
        assertEquals(MallocSettings.ENVIRONMENT, MallocSettings.childEnvironment(Map.of()));
        Map<String, String> kept = MallocSettings.childEnvironment(Map.of("MALLOC_ARENA_MAX", "2",
                "GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F"));
        assertEquals("2", kept.get("MALLOC_ARENA_MAX"));
        assertEquals("glibc.cpu.hwcaps=-AVX512F:" + MallocSettings.ENVIRONMENT.get("GLIBC_TUNABLES"),
                kept.get("GLIBC_TUNABLES"));
        assertTrue(MallocSettings.inEffect(MallocSettings.childEnvironment(Map.of())));
        assertFalse(MallocSettings.inEffect(Map.of("MALLOC_ARENA_MAX", "1")));
    }
}
