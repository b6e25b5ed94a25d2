package dev.bertclf.io;

/**
 * A launcher for {@link MallocSettingsTest}: relaunches itself like the project's launchers, then prints what its
 * JVM got. Args: {@code exit <code>} exits with that code; {@code sleep <code>} waits two minutes first.
 */
public final class MallocSettingsProbe {
    private MallocSettingsProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        MallocSettings.relaunch(MallocSettingsProbe.class, args).ifPresent(System::exit);
        System.out.println("pid " + ProcessHandle.current().pid());
        System.out.println("env " + System.getenv("MALLOC_ARENA_MAX") + " " + System.getenv("GLIBC_TUNABLES"));
        System.out.println("args " + String.join(",", args));
        System.out.println("setting " + System.getProperty("bertclf.train.epochs"));
        System.out.flush();
        if (args[0].equals("sleep")) {
            Thread.sleep(120_000);
        }
        System.exit(Integer.parseInt(args[1]));
    }
}
