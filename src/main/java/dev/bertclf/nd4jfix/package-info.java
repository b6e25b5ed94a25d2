/**
 * The engine seam: {@link dev.bertclf.nd4jfix.Engine}, the one facade through which the rest of the project reaches
 * the workarounds for DL4J/ND4J 1.0.0-M2.1, which sit in two subpackages: {@code repair} (the product computes wrong
 * numbers or fails without them) and {@code speed} (optional kernels and speed rewrites: the same values, faster).
 * May use {@code graph}; nothing else in the project.
 */
package dev.bertclf.nd4jfix;
