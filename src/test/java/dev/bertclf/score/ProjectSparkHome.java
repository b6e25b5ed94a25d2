package dev.bertclf.score;

import dev.bertclf.io.ChildJvm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A Spark home built from the test class path, where no Spark distribution and no job jar exist yet (tests run
 * before {@code package}): {@code jars/} links every jar of the class path (Spark's from Maven among them) and
 * holds the project's classes as {@code bert-classifier.jar}, the application jar to submit.
 */
final class ProjectSparkHome {
    private ProjectSparkHome() {
    }

    /** Fills {@code home/jars}; returns the application jar. */
    static Path create(Path home) throws IOException {
        Path jars = Files.createDirectories(home.resolve("jars"));
        List<Path> classFolders = new ArrayList<>();
        for (String entry : ChildJvm.classPath()) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p) && !p.endsWith("test-classes")) {
                classFolders.add(p);
            } else if (p.toString().endsWith(".jar") && Files.isRegularFile(p)
                    && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p);
            }
        }
        Path app = jars.resolve("bert-classifier.jar");
        try (OutputStream out = Files.newOutputStream(app); JarOutputStream jar = new JarOutputStream(out)) {
            for (Path folder : classFolders) {
                try (Stream<Path> files = Files.walk(folder)) {
                    for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                        jar.putNextEntry(new JarEntry(folder.relativize(f).toString().replace('\\', '/')));
                        Files.copy(f, jar);
                        jar.closeEntry();
                    }
                }
            }
        }
        return app;
    }
}
