/**
 * Fine-tuning: the one training set-up ({@code TrainableClassifier}), the training configuration (optimizer,
 * schedule, weight decay), the loop with checkpoints, validation, early stopping and keep-best, resumable state,
 * evaluation and reports. May use the packages below it: {@code config}, {@code io}, {@code data}, {@code model}, {@code nd4jfix}'s facade and {@code run}.
 */
package dev.bertclf.train;
