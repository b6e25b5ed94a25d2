package dev.bertclf.nd4jfix.repair;

/**
 * Turns off SameDiff's array cache for the whole JVM, before ND4J loads.
 *
 * <p><b>Symptom:</b> wrong outputs that differ from run to run whenever only the final outputs are requested
 * (0.49/0.51 instead of 0.90/0.10 after a reload); in training, losses diverge from the second step.
 * <p><b>Cause:</b> M2.1's {@code ArrayCacheMemoryMgr} hands released arrays out again with their old contents, and
 * M2.1 imports TF's {@code BatchMatMulV2} (the attention's two products) with beta = 1, so those ops add into their
 * output (found for {@code speed.OutputArrayReuse}, which reuses arrays correctly in inference).
 * With the property {@value #PROPERTY} = false, released arrays are closed instead of reused.
 * <p><b>Guarded by:</b> {@code ArrayCacheOffTest} (this JVM, {@code .mvn/jvm.config} and released arrays), and the
 * parity and resume tests, whose results vary without it.
 * <p><b>Remove when:</b> a newer ND4J's cache gives {@code BertParityTest} and {@code ResumeAfterKillTest} their
 * figures with the property unset. Set in {@code .mvn/jvm.config} (for {@code exec:java}), Surefire's
 * {@code argLine}, and by every launcher through {@link #apply()}.
 */
public final class ArrayCacheOff {
    /** {@code ND4JSystemProperties.SAMEDIFF_MEMORY_CACHE_DISABLE}'s property. */
    public static final String PROPERTY = "org.nd4j.autodiff.samediff";

    private ArrayCacheOff() {
    }

    /** Sets the property unless the JVM was started with a value for it. */
    public static void apply() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, "false");
        }
    }
}
