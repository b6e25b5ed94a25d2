package dev.bertclf.nd4jfix.repair;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * Runs work with {@code System.out} discarded.
 *
 * <p><b>Symptom:</b> importing BERT prints a graph summary of about 2,700 lines, and creating the gradient function
 * a line per op, burying the product's own output.
 * <p><b>Cause:</b> the M2.1 TensorFlow importer and {@code SameDiff.createGradFunction} print with
 * {@code System.out.println} rather than through a logger, so no logging setting silences them.
 * <p><b>Guarded by:</b> nothing automatic: the output is cosmetic.
 * <p><b>Remove when:</b> a newer ND4J logs these through SLF4J.
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
