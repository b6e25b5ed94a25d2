package dev.bertclf.nd4jfix.repair;

import java.util.ArrayList;
import java.util.List;

/**
 * Run in a JVM of its own by {@code FlatBufferSaveHeapTest}: fills the heap with 3 MB arrays, keeps every third, then
 * asks for one array of 3/8 of the heap, larger than any gap the kept ones leave but smaller than the free space
 * they leave in all. The save of a large graph asks the same of a heap that earlier large arrays have fragmented.
 * Prints {@code allocated} and exits with 0 if the array was given.
 */
public final class FlatBufferSaveHeapProbe {
    private static final int PIECE_BYTES = 3 << 20;

    private FlatBufferSaveHeapProbe() {
    }

    public static void main(String[] args) {
        List<byte[]> pieces = new ArrayList<>();
        try {
            while (true) {
                pieces.add(new byte[PIECE_BYTES]);
            }
        } catch (OutOfMemoryError full) {
            // the heap is full of pieces
        }
        List<byte[]> kept = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i += 3) {
            kept.add(pieces.get(i));
        }
        int allPieces = pieces.size();
        pieces = null;
        byte[] large = new byte[Math.toIntExact(Runtime.getRuntime().maxMemory() / 8 * 3)];
        System.out.println("allocated " + large.length + " bytes beside " + kept.size() + " of " + allPieces
                + " pieces of " + PIECE_BYTES);
    }
}
