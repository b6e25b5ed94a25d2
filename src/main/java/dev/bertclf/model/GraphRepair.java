package dev.bertclf.model;

import org.nd4j.autodiff.samediff.SameDiff;

/**
 * One correction applied to an imported graph because DL4J/ND4J 1.0.0-M2.1 imports it with silently wrong
 * semantics. Each repair is idempotent.
 */
public interface GraphRepair {
    /** Short name, for logs and the cache key. */
    String name();

    /** Applies the repair; returns how many ops it changed. */
    int apply(SameDiff sd);
}
