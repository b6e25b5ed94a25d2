package dev.bertclf.model;

import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.nd4jfix.Engine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * JVM-wide settings every entry point applies before ND4J loads: the engine's (also set in {@code .mvn/jvm.config} for
 * {@code mvn exec:java} and in Surefire's argLine; this covers a plain {@code java -cp ...} start), its kernels as
 * {@code engine.kernels} says ({@code reference.conf} and {@code -Dbertclf.engine.*}), and the native build.
 */
public final class JvmSetup {
    /** Selects the native ND4J build packaged with the project (e.g. {@code -onednn}). */
    public static final String PLATFORM_EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";

    private JvmSetup() {
    }

    public static void apply() {
        Engine.prepareJvm();
        useKernels(ConfigLoader.engine(System.getProperties()).kernels());
        if (System.getProperty(PLATFORM_EXTENSION_PROPERTY) == null) {
            String ext = buildProperties().getProperty("javacpp.extension", "");
            if (!ext.isBlank() && !ext.startsWith("$")) {
                System.setProperty(PLATFORM_EXTENSION_PROPERTY, ext);
            }
        }
    }

    /** Makes the engine run {@code kernels}; before the first graph is loaded, or refused. */
    public static void useKernels(Settings.Kernels kernels) {
        Engine.useKernels(kernels == Settings.Kernels.REFERENCE ? Engine.Kernels.REFERENCE : Engine.Kernels.FAST);
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
