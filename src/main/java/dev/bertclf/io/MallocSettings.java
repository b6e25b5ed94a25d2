package dev.bertclf.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Runs a command in a JVM whose glibc {@code malloc} keeps freed native memory for reuse: one arena, no
 * {@code mmap} for large blocks, no trimming ({@link #ENVIRONMENT}). A launcher started without these settings
 * runs its command in a child JVM that has them, with the same class path, JVM options, {@code -D} settings and
 * arguments, and exits with its exit code.
 *
 * <p><b>Symptom:</b> inference in batches of 32 runs 4-5 times slower in a fresh JVM ({@code Evaluate},
 * {@code Predict}, {@code Score}) than in the JVM that has just trained ({@code Train}'s test evaluation); a
 * profile shows half the time in the kernel's page faults and in {@code memset}, outside the ops.
 * <p><b>Cause:</b> ND4J 1.0.0-M2.1 allocates a fresh native array for every op output (its array cache must stay
 * off, see {@code nd4jfix.repair.ArrayCacheOff}) and frees it when the last consumer has run. glibc serves a Java thread
 * from a per-thread arena of 64 MB heaps and blocks above 32 MB with {@code mmap}; both go back to the kernel when
 * freed, so the next op's output is fresh memory that page-faults again (at 32×128 an FFN activation is 50 MB).
 * With the settings, freed blocks stay in the process and are reused.
 * <p><b>Guarded by:</b> {@code MallocSettingsTest} (the child has the settings, gets the arguments and
 * {@code -D} settings, passes back its exit code, and stops when its parent is killed); the figures are in
 * {@code docs/performance.md}.
 * <p><b>Remove when:</b> ND4J reuses op outputs itself (a working array cache, or workspaces in SameDiff).
 * <p>Off with {@code -D}{@value #RELAUNCH_PROPERTY}{@code =false}; nothing happens off Linux, nor under
 * {@code spark-submit} (the driver JVM is Spark's: set the environment before {@code spark-submit}, and executors
 * get it through {@link #SPARK_EXECUTOR_ENV}).
 */
public final class MallocSettings {
    /** The environment the command runs with (glibc reads it only when a process starts). */
    public static final Map<String, String> ENVIRONMENT = Map.of(
            "MALLOC_ARENA_MAX", "1",
            "GLIBC_TUNABLES", "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184");
    /** {@link #ENVIRONMENT} as Spark settings: what a Spark application gives its executors' environment. */
    public static final Map<String, String> SPARK_EXECUTOR_ENV = Map.of(
            "spark.executorEnv.MALLOC_ARENA_MAX", ENVIRONMENT.get("MALLOC_ARENA_MAX"),
            "spark.executorEnv.GLIBC_TUNABLES", ENVIRONMENT.get("GLIBC_TUNABLES"));
    /** {@code false}: run the command in this JVM whatever its environment. */
    public static final String RELAUNCH_PROPERTY = "dev.bertclf.relaunch";
    /** Set on the child: the parent's process id, so the child stops when the parent is gone. */
    static final String PARENT_PROPERTY = "dev.bertclf.relaunched-by";

    private MallocSettings() {
    }

    /**
     * For a launcher's {@code main}: the exit code of {@code mainClass} run with {@code args} in a child JVM that
     * has the settings, or empty when this JVM should run the command itself (it has them, it is such a child,
     * relaunching is off, this is not Linux, or {@code spark-submit} runs the command).
     */
    public static OptionalInt relaunch(Class<?> mainClass, String[] args) {
        String parent = System.getProperty(PARENT_PROPERTY);
        if (parent != null) {
            stopWithParent(Long.parseLong(parent));
            return OptionalInt.empty();
        }
        if (!System.getProperty("os.name", "").startsWith("Linux")
                || "false".equals(System.getProperty(RELAUNCH_PROPERTY)) || inEffect(System.getenv())
                || System.getProperty("SPARK_SUBMIT") != null) { // set by spark-submit for its main class
            return OptionalInt.empty();
        }
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java()));
        cmd.addAll(jvmOptions());
        cmd.add("-D" + PARENT_PROPERTY + "=" + ProcessHandle.current().pid());
        cmd.add("-cp");
        cmd.add(String.join(java.io.File.pathSeparator, ChildJvm.classPath()));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(childEnvironment(System.getenv()));
        try {
            return OptionalInt.of(ChildJvm.runToExit(pb)); // Ctrl-C, kill: the command shuts down as it would here
        } catch (IOException e) {
            System.err.println("Could not start a JVM with " + ENVIRONMENT + " (" + e.getMessage()
                    + "); running in this one");
            return OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.of(130);
        }
    }

    /** Whether an environment already has the settings (set by hand, or by a parent launcher). */
    public static boolean inEffect(Map<String, String> env) {
        return env.containsKey("MALLOC_ARENA_MAX")
                && env.getOrDefault("GLIBC_TUNABLES", "").contains("glibc.malloc.mmap_max=");
    }

    /** The settings added to {@code env}: values the user set stay, other tunables are kept. */
    public static Map<String, String> childEnvironment(Map<String, String> env) {
        Map<String, String> out = new HashMap<>();
        out.put("MALLOC_ARENA_MAX", env.getOrDefault("MALLOC_ARENA_MAX", ENVIRONMENT.get("MALLOC_ARENA_MAX")));
        String tunables = env.getOrDefault("GLIBC_TUNABLES", "");
        out.put("GLIBC_TUNABLES", tunables.contains("glibc.malloc.mmap_max=") ? tunables
                : tunables.isEmpty() ? ENVIRONMENT.get("GLIBC_TUNABLES")
                : tunables + ":" + ENVIRONMENT.get("GLIBC_TUNABLES"));
        return out;
    }

    /**
     * This JVM's options ({@code -X}, {@code -D}, {@code --add-opens}) and its {@code bertclf.*} and {@code spark.*}
     * settings ({@code mvn exec:java -D...} sets them as properties of the running JVM, not as its options).
     */
    private static List<String> jvmOptions() {
        List<String> out = new ArrayList<>(ChildJvm.inputArguments("-X", "-D", "--add-opens"));
        out.addAll(ChildJvm.propertyOptions("bertclf.", "spark."));
        return out;
    }

    /** A relaunched command stops at once when its parent is killed, as it would have in the parent. */
    private static void stopWithParent(long pid) {
        Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        if (parent.isEmpty()) {
            Runtime.getRuntime().halt(137);
        }
        parent.get().onExit().thenRun(() -> Runtime.getRuntime().halt(137));
    }
}
