package dev.bertclf.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @TempDir
    Path tmp;

    /** The id of a process that has ended. */
    static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void temporaryFilesLeftByDeadProcessesAreRemovedOnTheNextWrite() throws Exception {
        Path target = tmp.resolve("model.fb");
        Path stale = Files.writeString(tmp.resolve("model.fb.tmp-" + deadPid()), "half a model");
        Path staleFolder = Files.createDirectories(tmp.resolve("model.fb.tmp-" + deadPid()));
        Path live = Files.writeString(tmp.resolve("model.fb.tmp-1"), "a running process's file");
        Path other = Files.writeString(tmp.resolve("other.fb.tmp-" + deadPid()), "not beside this target");

        AtomicFiles.writeString(target, "new");

        assertEquals("new", Files.readString(target));
        assertFalse(Files.exists(stale), "a dead process's temporary file is removed");
        assertFalse(Files.exists(staleFolder));
        assertTrue(Files.exists(live), "a live process's temporary file is left alone");
        assertTrue(Files.exists(other), "only temporaries of the file being written are touched");
    }

    @Test
    void aFailedWriteKeepsTheOldContentAndLeavesNoTemporaryFile() throws Exception {
        Path target = Files.writeString(tmp.resolve("metrics.json"), "old");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write("half".getBytes());
            throw new IllegalStateException("killed mid-write");
        }));
        assertEquals("old", Files.readString(target));
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void aTemporaryFileWrittenByPathIsCommittedWithItsContent() throws IOException {
        Path target = tmp.resolve("a/b/model.fb");
        Path t = AtomicFiles.temp(target);
        Files.writeString(t, "weights");
        AtomicFiles.commit(t, target);
        assertEquals("weights", Files.readString(target));
        assertFalse(Files.exists(t));
    }
}
