package dev.bertclf.serve;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MicroBatcherTest {
    @Test
    void concurrentRequestsShareForwardPassesAndGetTheirOwnAnswers() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        Predictor p = texts -> {
            sizes.add(texts.size());
            return ServerFixture.fakeModel(texts);
        };
        try (MicroBatcher b = new MicroBatcher(p, 8, 200, 100)) {
            List<CompletableFuture<MicroBatcher.Answer>> fs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                fs.add(b.submit(List.of(i % 2 == 0 ? "good" : "bad")));
            }
            for (int i = 0; i < 8; i++) {
                assertArrayEquals(ServerFixture.fakeModel(List.of(i % 2 == 0 ? "good" : "bad"))[0],
                        fs.get(i).get(10, TimeUnit.SECONDS).probabilities()[0]);
            }
            assertTrue(sizes.size() < 8, "requests were batched: " + sizes);
            assertTrue(sizes.stream().allMatch(s -> s <= 8));
        }
    }

    @Test
    void aLoneClientIsNotKeptWaitingForOthers() throws Exception {
        try (MicroBatcher b = new MicroBatcher(ServerFixture::fakeModel, 8, 3000, 100)) {
            b.submit(List.of("good")).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                b.submit(List.of("bad")).get(10, TimeUnit.SECONDS);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms < 1000, "request " + (i + 2) + " of a lone client waited " + ms + " ms for others");
            }
        }
    }

    @Test
    void requestsQueuedDuringAPassShareTheNextAndWaitingThenResumes() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        try (MicroBatcher b = new MicroBatcher(texts -> {
            sizes.add(texts.size());
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ServerFixture.fakeModel(texts);
        }, 8, 1000, 100)) {
            b.submit(List.of("alone")).get(10, TimeUnit.SECONDS);
            List<CompletableFuture<MicroBatcher.Answer>> fs = new ArrayList<>();
            fs.add(b.submit(List.of("busy")));
            Thread.sleep(100);
            for (int i = 0; i < 3; i++) {
                fs.add(b.submit(List.of("queued " + i)));
            }
            for (CompletableFuture<MicroBatcher.Answer> f : fs) {
                f.get(10, TimeUnit.SECONDS);
            }
            for (int i = 0; i < 3; i++) {
                fs.add(b.submit(List.of("again " + i)));
                Thread.sleep(50);
            }
            for (CompletableFuture<MicroBatcher.Answer> f : fs) {
                f.get(10, TimeUnit.SECONDS);
            }
            // alone; "busy" at once (no wait after a lone pass); the three queued during it in one pass; then,
            // waiting again, the three sent 50 ms apart in one pass
            assertEquals(List.of(1, 1, 3, 3), sizes);
        }
    }

    @Test
    void largeRequestsRunInChunksOfTheMaximumBatch() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        try (MicroBatcher b = new MicroBatcher(texts -> {
            sizes.add(texts.size());
            return ServerFixture.fakeModel(texts);
        }, 3, 0, 100)) {
            float[][] out = b.submit(List.of("good", "bad", "x", "good", "bad", "x", "good")).get(10, TimeUnit.SECONDS).probabilities();
            assertEquals(7, out.length);
            assertEquals(0.7f, out[6][2]);
            assertEquals(List.of(3, 3, 1), sizes);
        }
    }

    @Test
    void refusesWhenFull() throws Exception {
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        try (MicroBatcher b = new MicroBatcher(texts -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ServerFixture.fakeModel(texts);
        }, 1, 0, 2)) {
            CompletableFuture<MicroBatcher.Answer> running = b.submit(List.of("a"));
            Thread.sleep(200);
            b.submit(List.of("b", "c"));
            assertThrows(MicroBatcher.QueueFullException.class, () -> b.submit(List.of("d")));
            hold.countDown();
            running.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRequestCancelledWhileQueuedIsNeverComputed() throws Exception {
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        List<String> computed = Collections.synchronizedList(new ArrayList<>());
        try (MicroBatcher b = new MicroBatcher(texts -> {
            computed.addAll(texts);
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ServerFixture.fakeModel(texts);
        }, 1, 0, 10)) {
            CompletableFuture<MicroBatcher.Answer> running = b.submit(List.of("first"));
            Thread.sleep(200);
            CompletableFuture<MicroBatcher.Answer> givenUp = b.submit(List.of("timed out"));
            givenUp.cancel(false);
            CompletableFuture<MicroBatcher.Answer> after = b.submit(List.of("third"));
            hold.countDown();
            running.get(10, TimeUnit.SECONDS);
            after.get(10, TimeUnit.SECONDS);
            assertEquals(List.of("first", "third"), computed, "the cancelled request was dropped");
            b.submit(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")).get(10, TimeUnit.SECONDS);
        }
    }
}
