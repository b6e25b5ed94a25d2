package dev.bertclf.model;

import org.nd4j.autodiff.samediff.SameDiff;

/**
 * One rewrite of an imported graph: a repair, because DL4J/ND4J 1.0.0-M2.1 imports it with silently wrong
 * semantics, or a speed rewrite that computes the same values with cheaper ops. Each is idempotent.
 */
public interface GraphRepair {
    /** Short name, for logs and the cache key. */
    String name();

    /** Raise when the rewrite's behaviour changes: it is part of the cache key, so older caches are rebuilt. */
    default int version() {
        return 1;
    }

    /** Applies the repair; returns how many ops it changed. */
    int apply(SameDiff sd);
}
