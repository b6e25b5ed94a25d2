/**
 * From CSV files to model input: reading and validating labelled texts, splits, BERT WordPiece tokenization,
 * truncation and featurization ({@code [batch, seqLen]} int32 arrays), the IMDB download. May use {@code config}
 * and {@code io}.
 */
package dev.bertclf.data;
