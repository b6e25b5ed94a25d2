package dev.bertclf.serve;

import dev.bertclf.TestSettings;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServingTest {
    @Test
    void warmingUpPredictsOneShortTextTheConfiguredNumberOfTimes() {
        List<List<String>> calls = new ArrayList<>();
        Serving.warmUp(texts -> {
            calls.add(texts);
            return ServerFixture.fakeModel(texts);
        }, 7);
        assertEquals(7, calls.size());
        for (List<String> texts : calls) {
            assertEquals(1, texts.size());
            assertTrue(texts.get(0).length() < 64, "a short text: " + texts.get(0));
        }
    }

    @Test
    void theWarmUpAndTheRequestsAfterItRunOnTheBatchersOneThread() {
        // libgomp spins between parallel regions only while no more threads run them than there are cores, so a
        // warm-up on the loading thread made every later pass on the batcher's thread slower
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<Integer> calls = new ArrayList<>();
        for (boolean batching : new boolean[]{true, false}) {
            threads.clear();
            calls.clear();
            Predictor recording = texts -> {
                threads.add(Thread.currentThread().getName());
                synchronized (calls) {
                    calls.add(texts.size());
                }
                return ServerFixture.fakeModel(texts);
            };
            try (MicroBatcher batcher = Serving.warmedUpBatcher(recording, TestSettings.with(
                    "serve.warmup-passes=5", "serve.batching.enabled=" + batching).serve())) {
                batcher.submit(List.of("a request after the warm-up")).join();
            }
            assertEquals(6, calls.size(), "5 warm-up passes and the request, batching " + batching);
            assertEquals(1, threads.size(), "one thread: " + threads);
            assertTrue(!threads.contains(Thread.currentThread().getName()), "not the caller's thread: " + threads);
        }
    }

    @Test
    void noWarmUpPassesMeansNoPrediction() {
        Serving.warmUp(texts -> {
            throw new AssertionError("predicted " + texts);
        }, 0);
    }
}
