package dev.bertclf.nd4jfix.speed;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.cpu.nativecpu.buffer.DefaultDataBufferFactory;
import org.nd4j.linalg.cpu.nativecpu.buffer.FloatBuffer;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * libnd4j's CPU data buffer factory, except that float buffers of at least {@link #MIN_ELEMENTS} elements asked for
 * without initial values are {@link Unfilled}: {@code malloc}'s memory, not filled (see {@link UnfilledBuffers}).
 * Loaded only on the CPU backend.
 */
final class UnfilledBufferFactory extends DefaultDataBufferFactory {
    /** Smaller buffers keep libnd4j's allocation: filling them costs next to nothing. */
    static final long MIN_ELEMENTS = 1 << 14;
    static final AtomicLong LIVE = new AtomicLong();
    private static final Cleaner CLEANER = Cleaner.create();

    @Override
    public DataBuffer create(DataType dataType, long length, boolean initialize) {
        if (!initialize && dataType == DataType.FLOAT && length >= MIN_ELEMENTS) {
            return Unfilled.allocate(length);
        }
        return super.create(dataType, length, initialize);
    }

    @Override
    public DataBuffer createFloat(long length, boolean initialize) {
        if (!initialize && length >= MIN_ELEMENTS) {
            return Unfilled.allocate(length);
        }
        return super.createFloat(length, initialize);
    }

    /** A float buffer over memory from {@code malloc}, freed when the buffer is closed or collected, once. */
    static final class Unfilled extends FloatBuffer {
        private final transient Cleaner.Cleanable free;

        private Unfilled(FloatPointer memory, long length) {
            super(memory, FloatIndexer.create(memory), length);
            LIVE.incrementAndGet();
            free = CLEANER.register(this, () -> {
                Pointer.free(memory);
                LIVE.decrementAndGet();
            });
        }

        static Unfilled allocate(long length) {
            Pointer memory = Pointer.malloc(length * Float.BYTES);
            if (memory == null || memory.isNull()) {
                throw new OutOfMemoryError("malloc of " + length * Float.BYTES + " bytes failed");
            }
            return new Unfilled(new FloatPointer(memory).capacity(length).limit(length), length);
        }

        @Override
        protected void release() {
            super.release();
            free.clean();
        }
    }
}
