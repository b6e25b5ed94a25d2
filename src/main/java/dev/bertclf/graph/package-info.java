/**
 * Rewriting imported graphs: the {@link dev.bertclf.graph.GraphRewrite} contract, surgery on SameDiff op tables and
 * TF GraphDef names; the rewrites themselves are in {@code nd4jfix.repair} and {@code nd4jfix.speed}. Depends on ND4J
 * only.
 */
package dev.bertclf.graph;
