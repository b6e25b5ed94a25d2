/**
 * Serving over HTTP: the {@code /predict}, {@code /health} and {@code /model} routes with their limits, Jetty's
 * limits, and the micro-batcher that shares forward passes between requests. May use {@code config},
 * {@code model} and {@code run}.
 */
package dev.bertclf.serve;
