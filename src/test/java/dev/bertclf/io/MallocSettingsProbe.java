package dev.bertclf.io;

/**
 * A launcher for {@link MallocSettingsTest}: relaunches itself like the project's launchers, then prints what its
 * JVM got. Args: {@code exit <code>} exits with that code; {@code sleep <code>} waits two minutes first;
 * {@code submitted <code>} runs as {@code spark-submit} runs a main class. The launcher sets {@code spark.master} as
 * {@code mvn exec:java -Dspark.master=...} does: as a property of the running JVM, not as a JVM option.
 */
public final class MallocSettingsProbe {
    private MallocSettingsProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (System.getProperty(MallocSettings.PARENT_PROPERTY) == null) {
            System.setProperty("spark.master", "local[1]");
            if (args[0].equals("submitted")) {
                System.setProperty("SPARK_SUBMIT", "true");
            }
        }
        MallocSettings.relaunch(MallocSettingsProbe.class, args).ifPresent(System::exit);
        System.out.println("pid " + ProcessHandle.current().pid());
        System.out.println("env " + System.getenv("MALLOC_ARENA_MAX") + " " + System.getenv("GLIBC_TUNABLES"));
        System.out.println("args " + String.join(",", args));
        System.out.println("setting " + System.getProperty("bertclf.train.epochs"));
        System.out.println("spark " + System.getProperty("spark.master"));
        System.out.flush();
        if (args[0].equals("sleep")) {
            Thread.sleep(120_000);
        }
        System.exit(Integer.parseInt(args[1]));
    }
}
