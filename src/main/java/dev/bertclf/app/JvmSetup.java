package dev.bertclf.app;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * JVM-wide settings every entry point applies before ND4J loads. They are also set in {@code .mvn/jvm.config}
 * (for {@code mvn exec:java}) and in Surefire's argLine; this covers a plain {@code java -cp ...} start.
 */
public final class JvmSetup {
    /**
     * ND4J 1.0.0-M2.1's SameDiff array cache reuses arrays still in use and returns silently wrong, run-to-run
     * varying results; {@code false} disables it (released arrays are closed instead).
     */
    public static final String ARRAY_CACHE_PROPERTY = "org.nd4j.autodiff.samediff";
    /** Selects the native ND4J build packaged with the project (e.g. {@code -onednn}). */
    public static final String PLATFORM_EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";

    private JvmSetup() {
    }

    public static void apply() {
        if (System.getProperty(ARRAY_CACHE_PROPERTY) == null) {
            System.setProperty(ARRAY_CACHE_PROPERTY, "false");
        }
        if (System.getProperty(PLATFORM_EXTENSION_PROPERTY) == null) {
            String ext = buildProperties().getProperty("javacpp.extension", "");
            if (!ext.isBlank() && !ext.startsWith("$")) {
                System.setProperty(PLATFORM_EXTENSION_PROPERTY, ext);
            }
        }
    }

    static Properties buildProperties() {
        Properties p = new Properties();
        try (InputStream in = JvmSetup.class.getClassLoader().getResourceAsStream("bertclf-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // no build properties: defaults apply
        }
        return p;
    }
}
