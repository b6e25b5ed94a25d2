package dev.bertclf.graph;

import org.nd4j.autodiff.samediff.SameDiff;

/**
 * One rewrite of an imported graph, applied once when the model cache is built: a repair (ND4J 1.0.0-M2.1 imports
 * the ops with silently wrong semantics; see {@code dev.bertclf.nd4jfix}) or a speed rewrite (same values, cheaper
 * ops). Each is idempotent. The model cache key is made of the rewrites' class names and versions, so a cache built
 * by another rewrite set is rebuilt.
 */
public interface GraphRewrite {
    /** Raise when the rewrite's behaviour changes: caches built by an older version are rebuilt. */
    default int version() {
        return 1;
    }

    /** Applies the rewrite; returns how many ops it changed. */
    int apply(SameDiff sd);

    /**
     * Registers the op classes the rewrite puts into graphs, so that a saved graph holding them loads; called for every
     * rewrite before any graph file is read. Most rewrites use ND4J's own ops and register nothing.
     */
    default void registerForLoading() {
    }

    /** Class name and version, as the model cache key holds it. */
    default String key() {
        return getClass().getSimpleName() + "-" + version();
    }
}
