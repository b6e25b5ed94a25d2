/**
 * Rewriting imported graphs: the {@link dev.bertclf.graph.GraphRewrite} contract, surgery on SameDiff op tables,
 * TF GraphDef names, and the speed rewrites (same values, cheaper ops). Depends on ND4J only.
 */
package dev.bertclf.graph;
