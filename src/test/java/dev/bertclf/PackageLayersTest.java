package dev.bertclf;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each package uses only the packages its {@code package-info.java} allows, so the layers have no cycle. */
class PackageLayersTest {
    private static final Path MAIN = Path.of("src/main/java/dev/bertclf");
    /**
     * Each package (a folder under {@code dev/bertclf}, subpackages dotted) and those it may use. Outside
     * {@code nd4jfix} only its facade, {@code nd4jfix.Engine}, is used: the repairs and speed kernels sit behind it.
     */
    private static final Map<String, Set<String>> MAY_USE = Map.ofEntries(
            Map.entry("config", Set.of()),
            Map.entry("io", Set.of()),
            Map.entry("graph", Set.of()),
            Map.entry("nd4jfix.repair", Set.of("graph")),
            Map.entry("nd4jfix.speed", Set.of("graph", "nd4jfix.repair")),
            Map.entry("nd4jfix", Set.of("graph", "nd4jfix.repair", "nd4jfix.speed")),
            Map.entry("data", Set.of("config", "io")),
            Map.entry("model", Set.of("config", "io", "data", "graph", "nd4jfix")),
            Map.entry("run", Set.of("config", "io", "data", "model")),
            Map.entry("train", Set.of("config", "io", "data", "model", "nd4jfix", "run")),
            Map.entry("serve", Set.of("config", "model", "run")),
            Map.entry("score", Set.of("config", "io", "data", "model", "run")),
            Map.entry("bench", Set.of("config", "io", "graph", "nd4jfix", "data", "model", "run", "train", "serve",
                    "score")),
            Map.entry("app", Set.of("config", "io", "graph", "nd4jfix", "data", "model", "run", "train", "serve",
                    "score", "bench")));
    /** A use of a class of another package: {@code dev.bertclf.<package>.<Class>}, the package possibly dotted. */
    private static final Pattern USE = Pattern.compile("\\bdev\\.bertclf\\.([a-z0-9]+(?:\\.[a-z0-9]+)*)\\.[A-Z]");

    /** The package of a main source file, as the table names it: its folder under dev/bertclf, dotted. */
    private static String packageOf(Path file) {
        Path dir = MAIN.relativize(file).getParent();
        return dir.toString().replace(java.io.File.separatorChar, '.');
    }

    @Test
    void everyPackageUsesOnlyThePackagesBelowIt() throws IOException {
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = packageOf(f);
                Set<String> allowed = MAY_USE.get(pkg);
                assertTrue(allowed != null, "package " + pkg + " is missing from the layer table (" + f + ")");
                Matcher m = USE.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(pkg) && !allowed.contains(m.group(1))) {
                        violations.add(f + " uses " + m.group(1));
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    @Test
    void everyPackageSaysWhatItHolds() throws IOException {
        Set<String> missing = new TreeSet<>();
        for (String pkg : MAY_USE.keySet()) {
            if (!Files.isRegularFile(MAIN.resolve(pkg.replace('.', '/')).resolve("package-info.java"))) {
                missing.add(pkg);
            }
        }
        assertEquals(Set.of(), missing);
    }
}
