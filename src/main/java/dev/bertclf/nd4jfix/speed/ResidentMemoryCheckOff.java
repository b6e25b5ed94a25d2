package dev.bertclf.nd4jfix.speed;

import dev.bertclf.nd4jfix.repair.OffHeapRelease;

/**
 * Turns off JavaCPP's check of the process's resident memory, which it makes on every native pointer created,
 * unless the JVM was started with a limit.
 *
 * <p><b>Symptom:</b> a forward pass of one short text spends about an eighth of its time in JavaCPP's
 * {@code Pointer.physicalBytesInaccurate}, a read of {@code /proc/self/statm} (a system call), several times per op.
 * <p><b>Cause:</b> JavaCPP 1.5.7 (ND4J 1.0.0-M2.1's) compares the resident size with
 * {@code maxPhysicalBytes} (on by default: {@code maxBytes} + 3 × the heap) each time a pointer with a deallocator
 * is made, and M2.1 makes several small ones for every op it runs (output shapes, op arguments). ND4J's arrays are
 * allocated by libnd4j and are not counted in JavaCPP's {@code maxBytes}, so this check is the only native-memory
 * bound JavaCPP gives them, paid per op. Native memory stays bounded by the project's own releases: SameDiff's
 * sessions close each intermediate array after its last use, and training closes each step's gradients and
 * collects after each step ({@link OffHeapRelease}).
 * <p><b>Guarded by:</b> {@code ResidentMemoryCheckOffTest} (a command's JVM has no limit unless started with one,
 * and {@code .mvn/jvm.config} sets none); the figures are in {@code docs/performance.md}.
 * <p><b>Remove when:</b> ND4J stops allocating JavaCPP pointers per op, or JavaCPP stops reading the resident size
 * per pointer. A JVM started with {@code -D}{@value #PROPERTY}{@code =<size>} keeps that limit (a hard bound, for
 * executors sharing a machine), at this cost.
 */
public final class ResidentMemoryCheckOff {
    /** JavaCPP's property (it also reads the camel-case {@value #CAMEL_CASE_PROPERTY}). */
    public static final String PROPERTY = "org.bytedeco.javacpp.maxphysicalbytes";
    static final String CAMEL_CASE_PROPERTY = "org.bytedeco.javacpp.maxPhysicalBytes";

    private ResidentMemoryCheckOff() {
    }

    /** Sets the limit to 0 (no check) unless the JVM was started with one; before JavaCPP loads. */
    public static void apply() {
        if (System.getProperty(PROPERTY) == null && System.getProperty(CAMEL_CASE_PROPERTY) == null) {
            System.setProperty(PROPERTY, "0");
        }
    }
}
