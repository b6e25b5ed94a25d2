/**
 * Batch scoring on Apache Spark: a run folder's classifier applied to a table of texts (CSV or Parquet), one model
 * per executor JVM, rows batched per partition, the result written atomically. May use {@code config},
 * {@code io}, {@code data}, {@code model} and {@code run}.
 */
package dev.bertclf.score;
