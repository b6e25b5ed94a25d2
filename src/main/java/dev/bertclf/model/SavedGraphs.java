package dev.bertclf.model;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.io.AtomicFiles;
import org.nd4j.autodiff.samediff.SameDiff;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Saves and loads the SameDiff graphs this project writes (the model cache's, a run folder's). Every graph file is
 * read here, between {@link Engine#beforeLoading} (the project's own op classes registered with ND4J before ND4J
 * reads one, and the JVM's kernels installed) and {@link Engine#afterLoading}.
 */
public final class SavedGraphs {
    /** Bytes handed to the file at a time (see {@link #save}). */
    static final int CHUNK_BYTES = 1 << 20;

    private SavedGraphs() {
    }

    /**
     * Writes {@code sd} without updater state to {@code file} atomically and durably ({@link AtomicFiles#write}),
     * byte for byte what {@code SameDiff.save} writes. M2.1's {@code save} hands its whole FlatBuffers image (the size
     * of the weights: 438 MB for BERT-base) to one {@code write}, for which the JDK copies it into native memory of
     * that size; here it goes out in chunks of {@link #CHUNK_BYTES}, so saving needs no native copy of the image.
     */
    public static void save(SameDiff sd, Path file) {
        ByteBuffer image = sd.asFlatBuffers(false);
        AtomicFiles.write(file, out -> {
            byte[] bytes = image.array();
            int end = image.arrayOffset() + image.limit();
            for (int at = image.arrayOffset() + image.position(); at < end; at += CHUNK_BYTES) {
                out.write(bytes, at, Math.min(CHUNK_BYTES, end - at));
            }
        });
    }

    /** The graph in {@code file}, without the updater state (a run's optimizer state is kept elsewhere). */
    public static SameDiff load(Path file) {
        Engine.beforeLoading();
        SameDiff sd = SameDiff.load(file.toFile(), false);
        Engine.afterLoading(sd);
        // The file's image on the Java heap is garbage now, but G1 keeps the heap it grew to (1.7 GB for BERT-base)
        // until its next full collection: in training, after the first step, whose native peak then adds to it.
        System.gc();
        return sd;
    }
}
