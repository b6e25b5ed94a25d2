package dev.bertclf.run;

import dev.bertclf.TestSettings;
import dev.bertclf.model.ModelException;
import dev.bertclf.model.Task;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunFolderTest {
    @TempDir
    Path tmp;

    @Test
    void runsStartedAtTheSameMomentNeverShareAFolder() throws Exception {
        int runs = 12;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(runs);
        try {
            List<Future<RunFolder>> created = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                created.add(pool.submit((Callable<RunFolder>) () -> {
                    go.await();
                    return RunFolder.create(tmp, "same");
                }));
            }
            go.countDown();
            Set<Path> dirs = new java.util.HashSet<>();
            for (Future<RunFolder> f : created) {
                dirs.add(f.get().dir());
            }
            assertEquals(runs, dirs.size(), "one folder each: " + dirs);
        } finally {
            pool.shutdownNow();
        }
    }

    private RunFolder complete(String name, String created) throws Exception {
        RunFolder r = new RunFolder(Files.createDirectories(tmp.resolve(name)));
        Files.createDirectories(r.file(RunFolder.MODEL).getParent());
        Files.writeString(r.file(RunFolder.MODEL), "model");
        Files.writeString(r.file(RunFolder.METRICS), "{\"created\": \"" + created + "\"}");
        return r;
    }

    @Test
    void theNewestRunIsTheLastCreatedWhateverTheFolderNames() throws Exception {
        complete("best", "2026-01-02T10:00:00Z");
        RunFolder newest = complete("20260301-120000-default", "2026-03-01T12:00:00+01:00");
        complete("20260201-120000-default", "2026-02-01T12:00:00Z");
        Files.createDirectories(tmp.resolve("zzz-unfinished"));
        assertEquals(newest.dir(), RunFolder.newest(tmp).orElseThrow().dir());
    }

    @Test
    void aRunFolderInUseCannotBeClaimedTwice() throws Exception {
        RunFolder run = RunFolder.create(tmp, "locked");
        try (RunFolder.Lock held = run.lock()) {
            ModelException e = assertThrows(ModelException.class, run::lock);
            assertTrue(e.getMessage().contains("in use by another training process"), e.getMessage());
        }
        run.lock().close();
        assertEquals(Set.of("model", RunFolder.LOCK), Files.list(run.dir()).map(p -> p.getFileName().toString())
                .collect(Collectors.toSet()));
    }

    @Test
    void aMultiLabelRunsThresholdsAreReadBackByLabelAndAMissingOneIsNamed() throws Exception {
        RunFolder run = RunFolder.create(tmp, "multi");
        run.writeString(RunFolder.CONFIG, TestSettings.with("model.task=multi-label").render() + "\n");
        run.writeLabels(List.of("anger", "joy"));
        Task task = Task.multiLabel(List.of("anger", "joy"), new double[]{0.25, 0.625});
        run.writeTask(task, "a test");
        assertEquals(task, run.task());

        Files.writeString(run.file(RunFolder.THRESHOLDS), "{\"thresholds\": {\"anger\": 0.25}}");
        ModelException e = assertThrows(ModelException.class, run::task);
        assertTrue(e.getMessage().contains("no threshold in (0, 1] for label 'joy'"), e.getMessage());
        Files.delete(run.file(RunFolder.THRESHOLDS));
        assertThrows(ModelException.class, run::task);
    }

    @Test
    void aSingleLabelRunNeedsNoThresholds() throws Exception {
        RunFolder run = RunFolder.create(tmp, "single");
        run.writeString(RunFolder.CONFIG, TestSettings.with().render() + "\n");
        run.writeLabels(List.of("negative", "positive"));
        assertEquals(Task.singleLabel(List.of("negative", "positive")), run.task());
    }
}
