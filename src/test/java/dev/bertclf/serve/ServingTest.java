package dev.bertclf.serve;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServingTest {
    @Test
    void theLoadTheWarmUpAndTheRequestsAfterItRunOnTheBatchersOneThread() {
        // libgomp spins between parallel regions only while no more threads run them than there are cores, so a
        // warm-up on the loading thread made every later pass on the batcher's thread slower
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<List<String>> calls = new ArrayList<>();
        for (int batchSize : new int[]{8, 1}) {
            threads.clear();
            calls.clear();
            Predictor recording = texts -> {
                threads.add(Thread.currentThread().getName());
                synchronized (calls) {
                    calls.add(texts);
                }
                return ServerFixture.fakeModel(texts);
            };
            try (MicroBatcher batcher = new MicroBatcher(batchSize, 0, 16, 5, 1, (n, pieces, nanos) -> {
            })) {
                batcher.swapIn(() -> {
                    threads.add(Thread.currentThread().getName());
                    return ServerFixture.candidate("run", recording).loader().get();
                }).join();
                batcher.submit(List.of("a request after the warm-up")).join();
            }
            assertEquals(6, calls.size(), "5 warm-up passes and the request, batches of " + batchSize);
            for (List<String> warmUp : calls.subList(0, 5)) {
                assertEquals(Serving.WARMUP_TEXTS, warmUp, "one short text");
            }
            assertEquals(1, threads.size(), "one thread: " + threads);
            assertTrue(!threads.contains(Thread.currentThread().getName()), "not the caller's thread: " + threads);
        }
    }

    @Test
    void noWarmUpPassesMeansNoPrediction() {
        try (MicroBatcher batcher = new MicroBatcher(8, 0, 16, 0, 0, (n, pieces, nanos) -> {
        })) {
            batcher.swapIn(() -> ServerFixture.candidate("run", texts -> {
                throw new AssertionError("predicted " + texts);
            }).loader().get()).join();
        }
    }

    @Test
    void aModelSwappedInLaterRunsTheReloadWarmUpPasses() {
        List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
        try (MicroBatcher batcher = new MicroBatcher(8, 0, 16, 4, 2, (n, pieces, nanos) -> {
        })) {
            for (String id : new String[]{"first", "second"}) {
                batcher.swapIn(() -> ServerFixture.candidate(id, texts -> {
                    calls.add(id);
                    return ServerFixture.fakeModel(texts);
                }).loader().get()).join();
            }
        }
        assertEquals(List.of("first", "first", "first", "first", "second", "second"), calls);
    }
}
