/**
 * Benchmarks: training, forward and serving speed, a per-op profile of a training step, and the paired run
 * against the PyTorch peer. They print figures and are not tests. May use every package except {@code app}.
 */
package dev.bertclf.bench;
