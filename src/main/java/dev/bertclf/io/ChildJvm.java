package dev.bertclf.io;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Starting the project's code in another JVM: the java binary, the class path and the options this JVM has. */
public final class ChildJvm {
    private ChildJvm() {
    }

    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The project's class path: exec:java's class loader, or this JVM's class path (Surefire sets it too). */
    public static List<String> classPath() {
        List<String> parts = new ArrayList<>();
        if (Thread.currentThread().getContextClassLoader() instanceof URLClassLoader loader
                && loader.getURLs().length > 0) {
            for (URL u : loader.getURLs()) {
                parts.add(u.getPath());
            }
        } else {
            parts.addAll(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        }
        return parts;
    }

    /** This JVM's heap, {@code -Dorg.*} (ND4J, JavaCPP) and {@code --add-opens} options, for a child like it. */
    public static List<String> inheritedOptions() {
        return inputArguments("-X", "-Dorg.", "--add-opens");
    }

    /**
     * {@code -Dk=v} for each property of this JVM whose name begins with one of {@code prefixes} ({@code bertclf.}:
     * the project's settings), sorted: {@code mvn exec:java -D...} sets them as properties of the running JVM, not
     * as its options, so {@link #inheritedOptions} does not carry them.
     */
    public static List<String> propertyOptions(String... prefixes) {
        return System.getProperties().stringPropertyNames().stream()
                .filter(k -> Arrays.stream(prefixes).anyMatch(k::startsWith)).sorted()
                .map(k -> "-D" + k + "=" + System.getProperty(k)).toList();
    }

    /**
     * Starts {@code child} (a {@code java} command line) with its output on this JVM's and waits for it to exit; if
     * this JVM is stopped meanwhile (Ctrl-C, a kill), the child is stopped first. Returns the child's exit code.
     */
    public static int runToExit(ProcessBuilder child) throws IOException, InterruptedException {
        Process p = child.inheritIO().start();
        Thread stop = new Thread(() -> {
            p.destroy();
            p.onExit().join();
        }, "stop-child-jvm");
        Runtime.getRuntime().addShutdownHook(stop);
        int code = p.waitFor();
        Runtime.getRuntime().removeShutdownHook(stop);
        return code;
    }

    /** The options this JVM was started with that begin with one of {@code prefixes}, in their order. */
    static List<String> inputArguments(String... prefixes) {
        List<String> out = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (Arrays.stream(prefixes).anyMatch(a::startsWith)) {
                out.add(a);
            }
        }
        return out;
    }

    /** Peak resident set size (VmHWM) of a live process (this one too), in GB; NaN once it has exited. */
    public static double peakRssGb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0 / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
