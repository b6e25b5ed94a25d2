package dev.bertclf.nd4jfix.repair;

import java.util.ArrayList;
import java.util.List;

/**
 * The garbage collector of a JVM started to save a large graph (the model cache's build): the parallel collector,
 * with the old generation at four fifths of the heap.
 *
 * <p><b>Symptom:</b> building multilingual BERT's model cache in a JVM of its own (heap 3,059 MB, G1, Java 17)
 * failed with {@code OutOfMemoryError: Java heap space} in {@code SameDiff.asFlatBuffers} in two of three tries,
 * though a full collection just before had left 0.9 GB of the heap live.
 * <p><b>Cause:</b> M2.1's {@code asFlatBuffers} builds the graph file's image on the heap in a
 * {@code FlatBufferBuilder} that starts at 1 KB and doubles, and {@code BaseDataBuffer.asBytes} first copies each
 * array into a {@code byte[]} of its own. For multilingual BERT's 711 MB of weights the last doubling holds the
 * 512 MB buffer, its 1 GB successor and the 367 MB copy of the word-embedding table at once: 1.9 GB in three
 * objects. G1 keeps each such object in contiguous regions of its own and does not move them when it compacts, so
 * the 1 GB found no contiguous free space in a heap three times its size.
 * <p>The parallel collector's full collections slide every live object, large arrays too, to one end of the old
 * generation, so the save needs the 1.9 GB and no more; {@code NewRatio=4} gives the old generation 2.4 GB of a
 * 3 GB heap. Building BERT-base's cache this way also peaks lower and no slower than with G1 (figures:
 * docs/performance.md, "Multilingual BERT's first build").
 * <p><b>Guarded by:</b> {@code FlatBufferSaveHeapTest} (a heap fragmented by large arrays gives one larger than any
 * gap under these options and not under G1; a parent's collector gives way), {@code CacheBuildJvmTest} (the build's
 * command line), and the tests of the cased and multilingual models, whose caches the tests build in JVMs of their
 * own as {@code Train} does.
 * <p><b>Remove when:</b> SameDiff saves without a heap image of the whole graph (a builder sized for it up front, or
 * arrays streamed to the file).
 */
public final class FlatBufferSaveHeap {
    /** Young generation : old generation = 1 : {@value}. */
    static final int NEW_RATIO = 4;

    private FlatBufferSaveHeap() {
    }

    /**
     * {@code inherited} (a parent JVM's options) without its choice of collector or of generation sizes, followed by
     * this class's: two collectors named on one command line stop the JVM from starting.
     */
    public static List<String> jvmOptions(List<String> inherited) {
        List<String> out = new ArrayList<>();
        for (String o : inherited) {
            if (!o.matches("-XX:[+-]Use\\w*GC") && !o.startsWith("-XX:NewRatio=") && !o.startsWith("-Xmn")
                    && !o.startsWith("-XX:NewSize=") && !o.startsWith("-XX:MaxNewSize=")) {
                out.add(o);
            }
        }
        out.add("-XX:+UseParallelGC");
        out.add("-XX:NewRatio=" + NEW_RATIO);
        return out;
    }
}
