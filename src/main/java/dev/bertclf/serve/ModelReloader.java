package dev.bertclf.serve;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Which run the server serves, and bringing it in: at start, on {@code POST /admin/reload}, and, with
 * {@code serve.run = latest}, whenever a newer run completes. Loading and warm-up run on the pass thread between
 * forward passes ({@link MicroBatcher#swapIn}); one swap at a time. A run that fails to load is logged and counted,
 * the model in use serves on, and the watcher does not try that run again.
 */
public final class ModelReloader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ModelReloader.class);

    /** A model that may be served: its id (the run's), and how to load it (on the pass thread). */
    public record Candidate(String id, Supplier<ServedModel> loader) {
    }

    private final MicroBatcher batcher;
    private final Supplier<Candidate> chooser;
    private final ServeMetrics metrics;
    private CompletableFuture<MicroBatcher.Swapped> inProgress;
    private String failedRun;
    private ScheduledExecutorService watcher;

    /** @param chooser the run to serve now: a fixed run folder, or the newest complete one */
    public ModelReloader(MicroBatcher batcher, Supplier<Candidate> chooser, ServeMetrics metrics) {
        this.batcher = batcher;
        this.chooser = chooser;
        this.metrics = metrics;
    }

    /** Loads the run the chooser names now (again, if it is the one served) and swaps it in. */
    public synchronized CompletableFuture<MicroBatcher.Swapped> reload() {
        Candidate run;
        try {
            run = chooser.get();
        } catch (RuntimeException e) {
            metrics.loadFailed();
            return CompletableFuture.failedFuture(e);
        }
        return load(run);
    }

    /** Loads {@code run} and swaps it in; while a swap is under way, that swap's future. */
    public synchronized CompletableFuture<MicroBatcher.Swapped> load(Candidate run) {
        if (inProgress != null && !inProgress.isDone()) {
            return inProgress;
        }
        log.info("Loading run {}", run.id());
        inProgress = batcher.swapIn(run.loader()).whenComplete((swapped, e) -> {
            if (e != null) {
                metrics.loadFailed();
                synchronized (this) {
                    failedRun = run.id();
                }
            } else {
                ServedModel m = batcher.current();
                metrics.loaded(m.id(), m.infoString("base_model"), m.infoString("precision"));
            }
        });
        return inProgress;
    }

    /** From now on, checks every {@code intervalMs} for a newer complete run, and swaps it in. */
    public synchronized void watch(long intervalMs) {
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "run-watcher");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(this::loadIfNewer, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    private void loadIfNewer() {
        try {
            Candidate newest = chooser.get();
            ServedModel served = batcher.current();
            synchronized (this) {
                if ((served == null || !newest.id().equals(served.id())) && !newest.id().equals(failedRun)) {
                    log.info("A newer run completed: {}", newest.id());
                    load(newest);
                }
            }
        } catch (RuntimeException e) {
            log.warn("Cannot look for a newer run: {}", e.getMessage());
        }
    }

    @Override
    public synchronized void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
