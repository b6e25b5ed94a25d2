package dev.bertclf.nd4jfix.repair;

import org.bytedeco.javacpp.Pointer;

import java.util.function.Supplier;

/**
 * Runs work (a TensorFlow import) while a daemon thread collects the Java heap's garbage whenever the process's
 * resident memory has grown by {@link #GROWTH_BYTES} since the last collection (checked every {@link #CHECK_MS}).
 *
 * <p><b>Symptom:</b> building BERT-base's model cache took its JVM to a peak resident size many times the weights
 * (0.44 GB); at the end of the import the process grew by gigabytes in seconds, and it kept that memory until the
 * graph was saved.
 * <p><b>Cause:</b> M2.1's TF importer ({@code TensorflowFrameworkImporter}) makes new native arrays from the weight
 * tensors again as it maps the ops that take them ({@code DefaultImportRunner.initAttributes}), besides the graph's
 * constants, and drops them. Their native memory is freed only when the garbage collector finds their small Java
 * objects unreachable, and the import's own heap use does not bring a collection about in time. Collected as the
 * process grows, the same build peaks lower in about the same time (figures: docs/performance.md, "The first run").
 * <p><b>Guarded by:</b> {@code ImportGarbageCollectionTest} (garbage is collected while the work runs; the collector
 * stops with it).
 * <p><b>Remove when:</b> the importer closes the arrays it makes for op attributes, or reuses the constants'.
 */
public final class ImportGarbageCollection {
    /** Growth of the resident memory that brings a collection about (a full one: 0.3-0.5 s on a 2 GB heap). */
    static final long GROWTH_BYTES = 1L << 30;
    /** Milliseconds between readings of the resident memory. */
    static final long CHECK_MS = 200;

    private ImportGarbageCollection() {
    }

    public static <T> T during(Supplier<T> work) {
        Thread collector = new Thread(() -> {
            try {
                long since = Pointer.physicalBytes();
                while (true) {
                    Thread.sleep(CHECK_MS);
                    long now = Pointer.physicalBytes();
                    if (now > since + GROWTH_BYTES) {
                        System.gc();
                        since = Pointer.physicalBytes();
                    } else {
                        since = Math.min(since, now);
                    }
                }
            } catch (InterruptedException e) {
                // the work is done
            }
        }, "import-garbage-collection");
        collector.setDaemon(true);
        collector.start();
        try {
            return work.get();
        } finally {
            collector.interrupt();
        }
    }
}
