package dev.bertclf.nd4jfix.speed;

import dev.bertclf.TestClassesRun;
import dev.bertclf.config.CpuInfo;
import dev.bertclf.io.ChildJvm;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The AVX2 path on every machine: the oneDNN kernel tests, a real forward pass against TF and against libnd4j, and a
 * real training step's gradients against libnd4j's, run in a child JVM with both copies of oneDNN capped at AVX2. An
 * AVX-512 or AMX machine then checks what AVX2-only users run. The cap is shown to have taken effect: each copy
 * reports AVX2 as its ISA, no primitive ran an AVX-512 or AMX implementation, the CPU line says oneDNN dispatches AVX2
 * ({@code CpuReportTest}), and the product's CPU check sees the cap (the bf16 cases are skipped naming it).
 */
@Tag("slow")
class IsaCapTest {
    /** libnd4j's oneDNN 2.3 reads only this name; bytedeco's 2.5 reads either (ONEDNN_ first). */
    private static final String CAP = "AVX2";
    private static final List<String> CHILD_TESTS = List.of(OneDnnKernelsTest.class.getName(),
            FusedGeluTest.class.getName(), TanhThroughOneDnnTest.class.getName(),
            DecomposedLayerNormGradientTest.class.getName(), Bf16ProductsTest.class.getName(),
            Int8ProductsTest.class.getName(),
            OneDnnKernelsOnRealBertTest.class.getName(), "dev.bertclf.model.BertParityTest",
            "dev.bertclf.model.CpuReportTest");
    /** The ISA lines' prefixes of libnd4j's oneDNN (2.3) and of bytedeco's (2.5). */
    private static final List<String> COPIES = List.of("dnnl_verbose", "onednn_verbose");

    @Test
    void theKernelTestsARealForwardPassAndATrainingStepPassWithOneDnnCappedAtAvx2() throws Exception {
        Path log = Path.of("target", "isa-cap", "child.log");
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>(List.of(ChildJvm.java()));
        command.addAll(ChildJvm.inheritedOptions());
        command.addAll(List.of("-cp", String.join(java.io.File.pathSeparator, ChildJvm.classPath()),
                TestClassesRun.class.getName()));
        command.addAll(CHILD_TESTS);
        ProcessBuilder child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        child.environment().put(CpuInfo.DNNL_CAP, CAP);
        child.environment().put(CpuInfo.ONEDNN_CAP, CAP);
        child.environment().put("DNNL_VERBOSE", "1");
        child.environment().put("ONEDNN_VERBOSE", "1");
        int exit = child.start().waitFor();
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        lines.stream().filter(l -> l.startsWith(TestClassesRun.OUTCOME) || l.contains("tests successful")
                || l.contains("tests failed") || l.startsWith("parity ") || l.startsWith("oneDNN kernels vs"))
                .forEach(System.out::println);
        assertEquals(0, exit, "the capped child's tests passed (its output: " + log + ")");

        for (String copy : COPIES) {
            List<String> isa = lines.stream().filter(l -> l.startsWith(copy + ",info,cpu,isa:")).toList();
            assertFalse(isa.isEmpty(), copy + ": the oneDNN copy ran and reported its ISA");
            isa.forEach(l -> assertEquals("Intel AVX2", l.substring(l.indexOf("isa:") + 4),
                    copy + " dispatches to the cap, AVX2 (this CPU has it)"));
            List<String> impls = lines.stream().filter(l -> l.startsWith(copy + ",exec,"))
                    .map(l -> l.split(",")[4]).toList();
            assertFalse(impls.isEmpty(), copy + " ran primitives");
            impls.forEach(impl -> assertFalse(impl.contains("avx512") || impl.contains("amx"),
                    copy + " ran " + impl + " under the AVX2 cap"));
            System.out.println(copy + ": " + impls.size() + " primitives, implementations "
                    + Set.copyOf(impls));
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(TestClassesRun.OUTCOME + "ABORTED")
                        && l.contains("needs bf16 products") && l.contains("capped by " + CpuInfo.DNNL_CAP + "=" + CAP)),
                "the bf16 cases are skipped naming the cap: the product's CPU check sees it");
    }
}
