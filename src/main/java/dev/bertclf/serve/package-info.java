/**
 * Serving over HTTP: the routes ({@code /predict}, {@code /health}, {@code /model}, {@code /metrics},
 * {@code /admin/reload}, the demo page and the API's document) with their limits, Jetty's limits, access control,
 * the access log, Prometheus metrics, and the micro-batcher that shares forward passes between requests and swaps
 * models between them. May use {@code config}, {@code model} and {@code run}.
 */
package dev.bertclf.serve;
