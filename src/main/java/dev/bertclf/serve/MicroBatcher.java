package dev.bertclf.serve;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Dynamic micro-batching in front of a single-threaded model (like DJL Serving's {@code batch_size} and
 * {@code max_batch_delay}): requests wait in a bounded queue; one worker takes the first, gathers more for up to
 * {@code maxWaitMs} or until {@code maxBatchSize} texts, and runs them in one forward pass. The model is only ever
 * called from the worker thread. With {@code maxBatchSize = 1} every text runs alone (batching off).
 *
 * <p>The worker waits for others only while clients come together: after a forward pass that served a single
 * request it takes what is already queued and runs at once, so a lone client is never kept waiting (on 2 cores a
 * short wait cost a short text many times the wait itself at p50); requests that arrive during a pass are served
 * together by the next one, and waiting resumes with it.
 *
 * <p><b>Model swaps</b> ({@link #swapIn}) are units of work on the same thread, between forward passes: loading the
 * model is one unit, each warm-up pass another, with the requests that arrive meanwhile served in between by the
 * model in use. Then the new model takes over and the old one is freed, on this thread, after its last pass. So
 * every pass runs on one thread (passes on a second thread ran 40-60% slower: {@link Serving#warmUp}), every batch
 * runs on one model, and each answer names the model that computed it.
 *
 * <p><b>Long work</b> ({@link #submitWork}: an explanation) runs the same way, one unit (one pass) at a time: waiting
 * prediction batches run first, then a swap's unit, then one unit of the oldest piece of work, which goes to the back
 * of the line if it is not done, so that explanations share the thread and never hold up a short prediction for more
 * than one unit. Work runs on the model serving when it began; a swap before it ends fails it (503: retry).
 */
public final class MicroBatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MicroBatcher.class);

    /** The queue is full: the caller should answer 429. */
    public static final class QueueFullException extends RuntimeException {
        QueueFullException(int capacity) {
            super("server busy: " + capacity + " texts already waiting");
        }
    }

    /**
     * A request's answer: probabilities in the order of its texts, the model that computed them, the word pieces of
     * its texts, and how long it waited in the queue and in its forward pass.
     */
    public record Answer(float[][] probabilities, ServedModel model, long wordPieces, long queuedNanos,
                         long passNanos) {
    }

    /** A finished swap: the model that was served before (null for the first), and the one served now. */
    public record Swapped(String previous, String current) {
    }

    /** What a forward pass reports, for metrics. */
    @FunctionalInterface
    public interface PassListener {
        void passed(int texts, long wordPieces, long nanos);
    }

    private record Pending(List<String> texts, CompletableFuture<Answer> result, long queuedAt) {
    }

    /** Work done one unit at a time on the pass thread, on the model it is given at its first unit. */
    public interface Work<T> {
        /** Runs one unit; true once the work is complete. */
        boolean step(ServedModel model);

        T result();
    }

    /** Finished work: its result, the model that computed it, and how long it waited and ran. */
    public record Done<T>(T result, ServedModel model, long queuedNanos, long workNanos) {
    }

    /** Work queued or in progress, and the model it runs on once begun. */
    private static final class Job<T> {
        final Work<T> work;
        final CompletableFuture<Done<T>> result = new CompletableFuture<>();
        final long queuedAt = System.nanoTime();
        ServedModel model;
        long started;
        long workNanos;

        Job(Work<T> work) {
            this.work = work;
        }

        /** One unit on {@code current}; true once the job is over (done or failed). */
        boolean step(ServedModel current) {
            if (model == null) {
                if (current == null) {
                    result.completeExceptionally(new ApiException(503, "no model loaded yet"));
                    return true;
                }
                model = current;
                started = System.nanoTime();
            } else if (model != current) {
                result.completeExceptionally(new ApiException(503, "model " + model.id() + " was replaced by "
                        + current.id() + " during the work; retry"));
                return true;
            }
            long t0 = System.nanoTime();
            boolean done = work.step(model);
            workNanos += System.nanoTime() - t0;
            if (done) {
                result.complete(new Done<>(work.result(), model, started - queuedAt, workNanos));
            }
            return done;
        }
    }

    /** A model on its way in: loaded in one unit, warmed up over {@code warmupLeft} more, then swapped in. */
    private static final class Swap {
        final Supplier<ServedModel> loader;
        final CompletableFuture<Swapped> done = new CompletableFuture<>();
        ServedModel next;
        int warmupLeft;
        long started;

        Swap(Supplier<ServedModel> loader) {
            this.loader = loader;
        }
    }

    private final int maxBatchSize;
    private final long maxWaitNanos;
    private final int capacity;
    private final int warmupPasses;
    private final int reloadWarmupPasses;
    private final PassListener listener;
    private final BlockingQueue<Pending> queue;
    private final Queue<Swap> swaps = new ConcurrentLinkedQueue<>();
    private final Queue<Job<?>> jobs = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedTexts = new AtomicInteger();
    private final Thread worker;
    private volatile ServedModel current;
    private volatile boolean closing;
    /** Whether the last forward pass served more than one request (assumed until one is seen alone). */
    private boolean clientsCameTogether = true;

    /**
     * A batcher with no model yet: {@link #swapIn} brings the first.
     *
     * @param warmupPasses       forward passes of a short text the first model runs before it serves
     * @param reloadWarmupPasses the same for a model swapped in later, when the JVM has compiled the execution code
     *                           its passes share with the first
     */
    public MicroBatcher(int maxBatchSize, int maxWaitMs, int capacity, int warmupPasses, int reloadWarmupPasses,
                        PassListener listener) {
        this.maxBatchSize = maxBatchSize;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        this.capacity = capacity;
        this.warmupPasses = warmupPasses;
        this.reloadWarmupPasses = reloadWarmupPasses;
        this.listener = listener;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = new Thread(this::work, "micro-batcher");
        worker.setDaemon(true);
        worker.start();
    }

    /** A batcher serving {@code predictor} at once, with no warm-up (tests and benchmarks). */
    public MicroBatcher(Predictor predictor, int maxBatchSize, int maxWaitMs, int capacity) {
        this(maxBatchSize, maxWaitMs, capacity, 0, 0, (n, pieces, nanos) -> {
        });
        this.current = ServedModel.of("unnamed", List.of(), predictor, Map.of());
    }

    /** The model serving now, or null before the first swap. */
    public ServedModel current() {
        return current;
    }

    /** Texts waiting for a forward pass. */
    public int queuedTexts() {
        return queuedTexts.get();
    }

    /** Queues texts; the future completes with their answer. */
    public CompletableFuture<Answer> submit(List<String> texts) {
        if (closing) {
            throw new IllegalStateException("shutting down");
        }
        Pending p = new Pending(List.copyOf(texts), new CompletableFuture<>(), System.nanoTime());
        if (queuedTexts.addAndGet(texts.size()) > capacity || !queue.offer(p)) {
            queuedTexts.addAndGet(-texts.size());
            throw new QueueFullException(capacity);
        }
        return p.result();
    }

    /**
     * Queues work to run unit by unit on the pass thread; the future completes with its result, or fails with why
     * it could not finish. A caller that stops waiting cancels the future, and the work is dropped at its next unit.
     */
    public <T> CompletableFuture<Done<T>> submitWork(Work<T> work) {
        if (closing) {
            throw new IllegalStateException("shutting down");
        }
        Job<T> job = new Job<>(work);
        jobs.add(job);
        return job.result;
    }

    /**
     * Loads a model and swaps it in, all on the worker thread between forward passes; the future completes once it
     * serves, or with the loader's or warm-up's failure, the model in use serving on.
     */
    public CompletableFuture<Swapped> swapIn(Supplier<ServedModel> loader) {
        if (closing) {
            return CompletableFuture.failedFuture(new IllegalStateException("shutting down"));
        }
        Swap s = new Swap(loader);
        swaps.add(s);
        return s.done;
    }

    private void work() {
        List<Pending> batch = new ArrayList<>();
        while (!closing || !queue.isEmpty()) {
            try {
                Swap swap = swaps.peek();
                Pending first = swap != null || !jobs.isEmpty() ? queue.poll() : queue.poll(20, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    gather(batch, first.texts().size());
                    clientsCameTogether = batch.size() > 1;
                    run(batch);
                }
                if (swap != null) {
                    step(swap);
                } else {
                    stepWork();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                batch.clear();
            }
        }
        for (Job<?> j; (j = jobs.poll()) != null; ) {
            j.result.completeExceptionally(new ApiException(503, "server is shutting down"));
        }
        for (Swap s; (s = swaps.poll()) != null; ) {
            s.done.completeExceptionally(new IllegalStateException("shutting down"));
            if (s.next != null) {
                s.next.close();
            }
        }
        ServedModel last = current;
        if (last != null) {
            last.close();
        }
    }

    /** One unit of the oldest work whose caller still waits; it goes to the back of the line unless done. */
    private void stepWork() {
        for (Job<?> job; (job = jobs.poll()) != null; ) {
            if (job.result.isDone()) {
                continue;
            }
            boolean over;
            try {
                over = job.step(current);
            } catch (RuntimeException | Error e) {
                log.error("Work failed", e);
                job.result.completeExceptionally(e);
                over = true;
            }
            if (!over) {
                jobs.add(job);
            }
            return;
        }
    }

    /** Adds queued requests to {@code batch} while they fit, waiting for them only while clients come together. */
    private void gather(List<Pending> batch, int texts) throws InterruptedException {
        long deadline = System.nanoTime() + (clientsCameTogether ? maxWaitNanos : 0);
        while (texts < maxBatchSize) {
            Pending next = queue.peek();
            if (next != null && texts + next.texts().size() > maxBatchSize) {
                break;
            }
            long left = deadline - System.nanoTime();
            next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
            if (next == null) {
                break;
            }
            batch.add(next);
            texts += next.texts().size();
        }
    }

    /** One unit of a swap: the load, or one warm-up pass; after the last, the new model takes over. */
    private void step(Swap s) {
        try {
            if (s.next == null) {
                s.started = System.nanoTime();
                s.next = s.loader.get();
                s.warmupLeft = current == null ? warmupPasses : reloadWarmupPasses;
                log.info("Model {} loaded in {} s; warming up over {} forward passes between requests", s.next.id(),
                        seconds(System.nanoTime() - s.started), s.warmupLeft);
            } else {
                s.next.predictor().predict(Serving.WARMUP_TEXTS);
                s.warmupLeft--;
            }
            if (s.warmupLeft == 0) {
                ServedModel old = current;
                current = s.next;
                swaps.poll();
                log.info("Model {} serving{}, {} s after its load began", s.next.id(),
                        old == null ? "" : " in place of " + old.id(), seconds(System.nanoTime() - s.started));
                if (old != null) {
                    old.close();
                }
                s.done.complete(new Swapped(old == null ? null : old.id(), s.next.id()));
            }
        } catch (RuntimeException | Error e) {
            swaps.poll();
            log.error("Model failed to load; {}", current == null ? "none serving" : current.id() + " serves on", e);
            if (s.next != null) {
                try {
                    s.next.close();
                } catch (RuntimeException closing) {
                    e.addSuppressed(closing);
                }
            }
            s.done.completeExceptionally(e);
        }
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e9);
    }

    /**
     * Runs the gathered requests in forward passes of at most {@code maxBatchSize} texts, on the model in use. A
     * request whose caller has given up (its future cancelled on timeout) is dropped, never computed.
     */
    private void run(List<Pending> gathered) {
        List<Pending> batch = new ArrayList<>();
        List<String> all = new ArrayList<>();
        long now = System.nanoTime();
        for (Pending p : gathered) {
            queuedTexts.addAndGet(-p.texts().size());
            if (!p.result().isDone()) {
                batch.add(p);
                all.addAll(p.texts());
            }
        }
        ServedModel model = current;
        if (all.isEmpty()) {
            return;
        }
        if (model == null) {
            batch.forEach(p -> p.result().completeExceptionally(new ApiException(503, "no model loaded yet")));
            return;
        }
        try {
            float[][] probs = new float[all.size()][];
            int[] pieces = new int[all.size()];
            long passStart = System.nanoTime();
            for (int from = 0; from < all.size(); from += maxBatchSize) {
                List<String> chunk = all.subList(from, Math.min(all.size(), from + maxBatchSize));
                long t0 = System.nanoTime();
                Predictor.Pass out = model.predictor().pass(chunk);
                long chunkPieces = 0;
                for (int i = 0; i < out.wordPieces().length; i++) {
                    chunkPieces += out.wordPieces()[i];
                }
                listener.passed(chunk.size(), chunkPieces, System.nanoTime() - t0);
                System.arraycopy(out.probabilities(), 0, probs, from, chunk.size());
                System.arraycopy(out.wordPieces(), 0, pieces, from, chunk.size());
            }
            long passNanos = System.nanoTime() - passStart;
            int at = 0;
            for (Pending p : batch) {
                float[][] mine = new float[p.texts().size()][];
                System.arraycopy(probs, at, mine, 0, mine.length);
                long myPieces = 0;
                for (int i = 0; i < mine.length; i++) {
                    myPieces += pieces[at + i];
                }
                at += mine.length;
                p.result().complete(new Answer(mine, model, myPieces, now - p.queuedAt(), passNanos));
            }
        } catch (RuntimeException | Error e) {
            log.error("Prediction failed for a batch of {} texts", all.size(), e);
            batch.forEach(p -> p.result().completeExceptionally(e));
        }
    }

    /** Stops taking requests, finishes those queued, and stops the worker, freeing the model it served. */
    @Override
    public void close() {
        closing = true;
        try {
            worker.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
