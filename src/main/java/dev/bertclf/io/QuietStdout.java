package dev.bertclf.io;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * Runs work with {@code System.out} discarded. ND4J 1.0.0-M2.1 prints thousands of lines to stdout from the
 * TensorFlow importer (the whole graph summary) and from gradient-function creation (a line per op).
 */
public final class QuietStdout {
    private QuietStdout() {
    }

    public static synchronized <T> T call(Supplier<T> work) {
        PrintStream original = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            return work.get();
        } finally {
            System.setOut(original);
        }
    }

    public static void run(Runnable work) {
        call(() -> {
            work.run();
            return null;
        });
    }
}
