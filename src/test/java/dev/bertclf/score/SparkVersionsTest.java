package dev.bertclf.score;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Spark home that cluster/pom.xml fills runs the Spark version the project is built against. */
class SparkVersionsTest {
    private static String sparkVersion(Path pom) throws IOException {
        Matcher m = Pattern.compile("<spark.version>([^<]+)</spark.version>").matcher(Files.readString(pom));
        return m.find() ? m.group(1) : "none in " + pom;
    }

    @Test
    void theClusterPomNamesTheProjectsSparkVersion() throws IOException {
        assertEquals(sparkVersion(Path.of("pom.xml")), sparkVersion(Path.of("cluster", "pom.xml")));
    }
}
