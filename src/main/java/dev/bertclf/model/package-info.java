/**
 * The pretrained BERT and the classifier built on it: model descriptors, freezing a SavedModel with the TF
 * runtime, import and rewrites, the model cache, the classifier head and inference, and the JVM-wide ND4J setup
 * every entry point applies ({@code JvmSetup}), and the CPU line ({@code CpuReport}). May use {@code config},
 * {@code io}, {@code data}, {@code graph} and {@code nd4jfix}'s facade.
 */
package dev.bertclf.model;
