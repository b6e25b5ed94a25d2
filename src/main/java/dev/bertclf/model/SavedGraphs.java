package dev.bertclf.model;

import dev.bertclf.nd4jfix.TanhThroughOneDnn;
import org.nd4j.autodiff.samediff.SameDiff;

import java.nio.file.Path;

/**
 * Loads a SameDiff graph this project saved (the model cache's, a run folder's): every graph file is read here, so
 * the project's own op classes are registered with ND4J before ND4J reads one.
 */
public final class SavedGraphs {
    private SavedGraphs() {
    }

    /** The graph in {@code file}, without the updater state (a run's optimizer state is kept elsewhere). */
    public static SameDiff load(Path file) {
        TanhThroughOneDnn.registerForLoading();
        return SameDiff.load(file.toFile(), false);
    }
}
