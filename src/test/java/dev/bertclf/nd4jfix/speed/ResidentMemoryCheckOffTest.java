package dev.bertclf.nd4jfix.speed;

import dev.bertclf.io.ChildJvm;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JavaCPP reads the process's resident size on every pointer ND4J makes unless its limit is 0. The Surefire JVM
 * keeps a limit (a guard for the test run), so the commands are checked in JVMs of their own.
 */
class ResidentMemoryCheckOffTest {
    private static String probe(String... jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java(), "-Xmx256m"));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ResidentMemoryCheckOffProbe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void aCommandStartedWithoutALimitRunsWithoutTheCheck() throws Exception {
        String out = probe();
        assertTrue(out.contains("maxPhysicalBytes 0\n"), out);
    }

    @Test
    void aLimitTheJvmWasStartedWithIsKept() throws Exception {
        String out = probe("-D" + ResidentMemoryCheckOff.PROPERTY + "=6g");
        assertTrue(out.contains("maxPhysicalBytes " + (6L << 30) + "\n"), out);
    }

    @Test
    void mavenJvmConfigSetsNoLimitForExecJava() throws Exception {
        String jvmConfig = Files.readString(Path.of(".mvn/jvm.config"));
        assertTrue(jvmConfig.contains("-D" + ResidentMemoryCheckOff.PROPERTY + "=0 "), jvmConfig);
    }
}
