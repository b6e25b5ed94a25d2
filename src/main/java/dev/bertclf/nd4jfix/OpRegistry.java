package dev.bertclf.nd4jfix;

import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.util.HashUtil;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * ND4J's registry of custom-op classes, by the hash of the libnd4j op name: {@code SameDiff.load} recreates each
 * custom op of a saved graph as the class registered here. M2.1 builds it from ND4J's own classes only and has no
 * API to add one, hence the reflection; the project's op classes ({@link TanhThroughOneDnn},
 * {@link BiasGradientByMatmul}) are entered before any graph file is read.
 */
final class OpRegistry {
    private OpRegistry() {
    }

    /** Makes {@code SameDiff.load} recreate the custom op {@code opName} as {@code opClass}. Idempotent. */
    static synchronized void use(String opName, Class<?> opClass) {
        classes().put(HashUtil.getLongHash(opName), opClass);
    }

    /** The class {@code SameDiff.load} recreates {@code opName} as, or null. */
    static synchronized Class<?> get(String opName) {
        return classes().get(HashUtil.getLongHash(opName));
    }

    /** Forgets {@code opName} (for tests that show what loading does without the registration). */
    static synchronized void remove(String opName) {
        classes().remove(HashUtil.getLongHash(opName));
    }

    @SuppressWarnings("unchecked")
    private static Map<Long, Class<?>> classes() {
        try {
            Field f = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClass");
            f.setAccessible(true);
            return (Map<Long, Class<?>>) f.get(DifferentialFunctionClassHolder.getInstance());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("ND4J's op registry has no customOpHashToClass: unsupported ND4J version",
                    e);
        }
    }
}
