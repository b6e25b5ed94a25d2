/**
 * Optional kernels and speed rewrites: the same values as ND4J 1.0.0-M2.1's own, faster or in less memory (oneDNN's
 * products, LayerNorm and GELU, bf16 products, output-array reuse, unfilled buffers, and the graph rewrites that
 * fuse or rename ops). The executioner-level kernels can be turned off with {@code engine.kernels = reference}; the
 * rewrites are baked into the model cache. One class each, each opening with the symptom, the cause, the test that
 * guards it and when it can be removed. Reached through {@code nd4jfix.Engine}. May use {@code graph} and
 * {@code nd4jfix.repair}.
 */
package dev.bertclf.nd4jfix.speed;
