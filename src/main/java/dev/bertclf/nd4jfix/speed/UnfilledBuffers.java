package dev.bertclf.nd4jfix.speed;

import dev.bertclf.nd4jfix.repair.ArrayCacheOff;
import dev.bertclf.nd4jfix.repair.MatmulBetaZero;

import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;

/**
 * ND4J's float arrays asked for without initial values ({@code Nd4j.createUninitialized}, and so every op output of
 * SameDiff's training session) get memory with nothing written to it, as asked, instead of libnd4j's, which fills
 * every new buffer with zeros.
 *
 * <p><b>Symptom:</b> about a tenth of a 16×128 full fine-tuning step (some 0.5 s on a 2-core AMD EPYC) is spent in
 * libnd4j's {@code allocateDataBuffer}; allocating and closing a large float array costs an order of magnitude more
 * than with this class (figures: docs/performance.md).
 * <p><b>Cause:</b> libnd4j's allocation fills each buffer with zeros, also where ND4J asks for an uninitialized one,
 * and M2.1's training session allocates every op output afresh (its array cache must stay off: {@link ArrayCacheOff}),
 * 8.2 GB a step. {@link #install()} makes ND4J's data buffer factory an {@link UnfilledBufferFactory}, whose float
 * buffers of at least {@value UnfilledBufferFactory#MIN_ELEMENTS} elements asked for without initial values are
 * external buffers over {@code malloc}'s memory, freed when closed or collected. Their contents are whatever the memory
 * held, which is safe because every op writes all of its output: {@link MatmulBetaZero} makes the attention's products
 * do so, and {@link OutputArrayReuse} zeroes the arrays it hands to ops not known to.
 * <p><b>Guarded by:</b> {@code UnfilledBuffersTest} (the buffers, their release, ops and views on them; zeroed arrays
 * stay zeroed), {@code MatmulBetaZeroTest}, {@code OutputArrayReuseTest}, the training and parity tests, and the
 * default experiment's losses, equal step by step with and without (docs/performance.md).
 * <p><b>Remove when:</b> libnd4j allocates without filling where no initial values are asked for.
 */
public final class UnfilledBuffers {
    private static final Logger LOG = LoggerFactory.getLogger(UnfilledBuffers.class);
    private static final String CPU_FACTORY = "org.nd4j.linalg.cpu.nativecpu.buffer.DefaultDataBufferFactory";
    /** Whether {@link #install()} replaced the factory; null before it was first called. */
    private static Boolean installed;

    private UnfilledBuffers() {
    }

    /**
     * Makes ND4J's data buffer factory an {@link UnfilledBufferFactory}, once per JVM; returns whether it is one.
     * Leaves any other backend's (CUDA's) alone.
     */
    public static synchronized boolean install() {
        if (installed == null) {
            installed = replaceFactory();
        }
        return installed;
    }

    private static boolean replaceFactory() {
        // by name: under the CUDA backend libnd4j's CPU classes are not there
        if (!Nd4j.getDataBufferFactory().getClass().getName().equals(CPU_FACTORY)) {
            return false;
        }
        try {
            Field instance = Nd4j.class.getDeclaredField("DATA_BUFFER_FACTORY_INSTANCE");
            instance.setAccessible(true);
            instance.set(null, new UnfilledBufferFactory());
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("New arrays stay zero-filled by libnd4j: its data buffer factory cannot be replaced ({})",
                    e.toString());
            return false;
        }
    }

    /** Buffers of {@link UnfilledBufferFactory} not yet freed in this JVM. */
    public static long live() {
        return UnfilledBufferFactory.LIVE.get();
    }
}
