/**
 * The commands behind the launchers ({@code Train}, {@code Evaluate}, {@code Predict}, {@code Score},
 * {@code Cluster}, {@code Serve}, {@code Benchmark*}) and the jobs they run ({@link dev.bertclf.app.TrainingApp},
 * {@link dev.bertclf.app.ServeApp}): arguments and exit codes. The top layer: may use every package.
 */
package dev.bertclf.app;
