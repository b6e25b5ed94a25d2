package dev.bertclf.train;

import dev.bertclf.model.ModelException;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which checkpoint a resume uses after a kill at each point of writing one. */
class TrainingStateTest {
    @TempDir
    Path tmp;

    private Path checkpoint(String name, boolean complete) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Files.writeString(d.resolve(TrainingState.WEIGHTS), "weights");
        Files.writeString(d.resolve(TrainingState.OPTIMIZER), "moments");
        if (complete) {
            Files.writeString(d.resolve(TrainingState.STATE), "{}");
        }
        return d;
    }

    @Test
    void aKillWhileWritingTheModelResumesFromThePreviousCheckpoint() throws Exception {
        Path previous = checkpoint(RunFolder.CHECKPOINT, true);
        checkpoint(RunFolder.CHECKPOINT + ".new", false);
        assertEquals(previous, TrainingState.checkpointOf(new RunFolder(tmp)));
    }

    @Test
    void aKillBetweenTheTwoRenamesResumesFromThePreviousCheckpointMovedAside() throws Exception {
        Path previous = checkpoint(RunFolder.CHECKPOINT + ".old", true);
        checkpoint(RunFolder.CHECKPOINT + ".new", true);
        assertEquals(previous, TrainingState.checkpointOf(new RunFolder(tmp)));
    }

    @Test
    void aCompleteNewCheckpointIsUsedWhenNothingElseIsLeft() throws Exception {
        Path fresh = checkpoint(RunFolder.CHECKPOINT + ".new", true);
        assertEquals(fresh, TrainingState.checkpointOf(new RunFolder(tmp)));
    }

    @Test
    void noCompleteCheckpointIsAClearError() throws Exception {
        checkpoint(RunFolder.CHECKPOINT + ".new", false);
        ModelException e = assertThrows(ModelException.class, () -> TrainingState.checkpointOf(new RunFolder(tmp)));
        assertEquals(true, e.getMessage().contains("has no checkpoint to resume from"), e.getMessage());
    }
}
