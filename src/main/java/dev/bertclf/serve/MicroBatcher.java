package dev.bertclf.serve;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
 */
public final class MicroBatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MicroBatcher.class);

    /** The queue is full: the caller should answer 429. */
    public static final class QueueFullException extends RuntimeException {
        QueueFullException(int capacity) {
            super("server busy: " + capacity + " texts already waiting");
        }
    }

    private record Pending(List<String> texts, CompletableFuture<float[][]> result) {
    }

    private final Predictor predictor;
    private final int maxBatchSize;
    private final long maxWaitNanos;
    private final int capacity;
    private final BlockingQueue<Pending> queue;
    private final AtomicInteger queuedTexts = new AtomicInteger();
    private final Thread worker;
    private volatile boolean closing;
    /** Whether the last forward pass served more than one request (assumed until one is seen alone). */
    private boolean clientsCameTogether = true;

    public MicroBatcher(Predictor predictor, int maxBatchSize, int maxWaitMs, int capacity) {
        this.predictor = predictor;
        this.maxBatchSize = maxBatchSize;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        this.capacity = capacity;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = new Thread(this::work, "micro-batcher");
        worker.setDaemon(true);
        worker.start();
    }

    /** Queues texts; the future completes with their probabilities, in order. */
    public CompletableFuture<float[][]> submit(List<String> texts) {
        if (closing) {
            throw new IllegalStateException("shutting down");
        }
        Pending p = new Pending(List.copyOf(texts), new CompletableFuture<>());
        if (queuedTexts.addAndGet(texts.size()) > capacity || !queue.offer(p)) {
            queuedTexts.addAndGet(-texts.size());
            throw new QueueFullException(capacity);
        }
        return p.result();
    }

    private void work() {
        List<Pending> batch = new ArrayList<>();
        while (!closing || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                int texts = first.texts().size();
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
                clientsCameTogether = batch.size() > 1;
                run(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                batch.clear();
            }
        }
    }

    /**
     * Runs the gathered requests in forward passes of at most {@code maxBatchSize} texts. A request whose caller
     * has given up (its future cancelled on timeout) is dropped, never computed.
     */
    private void run(List<Pending> gathered) {
        List<Pending> batch = new ArrayList<>();
        List<String> all = new ArrayList<>();
        for (Pending p : gathered) {
            queuedTexts.addAndGet(-p.texts().size());
            if (!p.result().isDone()) {
                batch.add(p);
                all.addAll(p.texts());
            }
        }
        if (all.isEmpty()) {
            return;
        }
        try {
            float[][] probs = new float[all.size()][];
            for (int from = 0; from < all.size(); from += maxBatchSize) {
                List<String> chunk = all.subList(from, Math.min(all.size(), from + maxBatchSize));
                float[][] out = predictor.predict(chunk);
                System.arraycopy(out, 0, probs, from, out.length);
            }
            int at = 0;
            for (Pending p : batch) {
                float[][] mine = new float[p.texts().size()][];
                System.arraycopy(probs, at, mine, 0, mine.length);
                at += mine.length;
                p.result().complete(mine);
            }
        } catch (RuntimeException | Error e) {
            log.error("Prediction failed for a batch of {} texts", all.size(), e);
            batch.forEach(p -> p.result().completeExceptionally(e));
        }
    }

    /** Stops taking requests, finishes those queued, and stops the worker. */
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
