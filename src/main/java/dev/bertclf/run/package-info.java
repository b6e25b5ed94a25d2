/**
 * The run folder: everything one training run produced and everything inference needs (model, config, labels,
 * vocabulary, base-model descriptor, metrics, reports), read and written in one place. May use {@code config},
 * {@code io}, {@code data} and {@code model}.
 */
package dev.bertclf.run;
