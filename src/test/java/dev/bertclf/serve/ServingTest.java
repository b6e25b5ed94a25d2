package dev.bertclf.serve;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

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
    void noWarmUpPassesMeansNoPrediction() {
        Serving.warmUp(texts -> {
            throw new AssertionError("predicted " + texts);
        }, 0);
    }
}
