package dev.bertclf.model;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.io.ChildJvm;
import dev.bertclf.io.MallocSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a missing model cache ({@link PretrainedBert}: unpack, freeze, import, repair, save) in a JVM of its own,
 * with a heap sized for the model, so that the JVM that goes on to train never holds what the build needed.
 *
 * <p>Why: built in the training JVM, BERT-base's cache took that JVM to a peak far above training's own (the
 * importer's heap grows to the launchers' limit, and the TF runtime's and the importer's native memory stays with the
 * process under {@link MallocSettings}): the first {@code Train} of a fresh checkout needed gigabytes more than every
 * later one. The child exits when the cache is written, returning all of it; the first run's peak is the child's
 * (figures: docs/performance.md, "The first run").
 * <p>Its heap ({@link #heapMegabytes}) follows from the descriptor's parameter count (the import's live heap reaches
 * four times the weights: 1.8 GB for BERT-base's 440 MB), its collector is the parallel one, under which saving
 * the graph finds its heap ({@code nd4jfix.repair.FlatBufferSaveHeap}), and it runs with glibc's default {@code malloc} (large
 * blocks go back to the system when freed) rather than the launchers' settings, which are for the many same-sized op
 * outputs of training and inference.
 */
public final class CacheBuildJvm {
    private static final Logger log = LoggerFactory.getLogger(CacheBuildJvm.class);

    private CacheBuildJvm() {
    }

    /**
     * Builds the cache of the model that {@code descriptorFile} describes under {@code cacheDir} in a child JVM,
     * unless it is built already. A failed build fails here with the child's message. Where no child JVM can be
     * started, builds in this JVM.
     */
    public static void ensureBuilt(Path descriptorFile, Path cacheDir, MavenArtifacts.Repositories repos) {
        ModelDescriptor d = ModelDescriptor.load(descriptorFile);
        if (PretrainedBert.isBuilt(d, cacheDir)) {
            return;
        }
        Path error = null;
        try {
            error = Files.createTempFile("bertclf-cache-build-", ".txt");
            ProcessBuilder pb = new ProcessBuilder(command(d, descriptorFile, cacheDir, repos, error));
            MallocSettings.ENVIRONMENT.keySet().forEach(pb.environment()::remove);
            log.info("Building the model cache of {} in a JVM of its own (heap {} MB)", d.name(), heapMegabytes(d));
            int code = ChildJvm.runToExit(pb);
            if (code != 0) {
                String why = Files.readString(error, StandardCharsets.UTF_8).strip();
                throw new ModelException("Building the model cache of " + d.name() + " under " + cacheDir
                        + " failed" + (why.isEmpty() ? " (its JVM exited with status " + code + ")" : ": " + why));
            }
            if (!PretrainedBert.isBuilt(d, cacheDir)) {
                throw new ModelException("The JVM that built the model cache of " + d.name() + " under " + cacheDir
                        + " exited without error but left no complete cache");
            }
        } catch (IOException e) {
            log.warn("Could not start a JVM to build the model cache ({}); building it in this one", e.getMessage());
            PretrainedBert.prepare(d, cacheDir, repos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelException("Interrupted while the model cache of " + d.name() + " was being built");
        } finally {
            if (error != null) {
                try {
                    Files.deleteIfExists(error);
                } catch (IOException e) {
                    log.debug("Could not delete {}", error, e);
                }
            }
        }
    }

    /** The child's command line; its error file gets the message of a build that fails. */
    static List<String> command(ModelDescriptor d, Path descriptorFile, Path cacheDir,
                                MavenArtifacts.Repositories repos, Path errorFile) {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.java()));
        cmd.addAll(Engine.graphSavingJvmOptions(ChildJvm.inheritedOptions()));
        cmd.add("-Xmx" + heapMegabytes(d) + "m"); // after the inherited -Xmx: the last one counts
        cmd.addAll(List.of("-cp", String.join(java.io.File.pathSeparator, ChildJvm.classPath()),
                CacheBuildJvm.class.getName(), descriptorFile.toString(), cacheDir.toString(),
                repos.remote().toString(), repos.local().toString(), errorFile.toString()));
        return cmd;
    }

    /** The child's heap: 1 GB and three times the {@code float32} weights ({@link #parameters}), in MB. */
    static long heapMegabytes(ModelDescriptor d) {
        return 1024 + 3 * parameters(d) * Float.BYTES / (1 << 20);
    }

    /**
     * BERT's parameter count from the descriptor: word, position and segment embeddings and their LayerNorm; per
     * encoder layer Q, K, V, the attention output, the FFN's two layers and two LayerNorms; the pooler. A vocabulary
     * the descriptor does not declare counts as multilingual BERT's 119,547 tokens.
     */
    static long parameters(ModelDescriptor d) {
        long h = d.hiddenSize();
        long vocab = d.vocabSize() > 0 ? d.vocabSize() : 119_547;
        long embeddings = (vocab + d.maxPositions() + 2) * h + 2 * h;
        long layer = 4 * (h * h + h) + 2 * (4 * h * h) + 4 * h + h + 2 * 2 * h;
        return embeddings + d.layers() * layer + h * h + h;
    }

    /** The child: {@code <descriptor file> <cache dir> <remote repository> <local repository> <error file>}. */
    public static void main(String[] args) {
        JvmSetup.apply();
        try {
            PretrainedBert.prepare(ModelDescriptor.load(Path.of(args[0])), Path.of(args[1]),
                    new MavenArtifacts.Repositories(URI.create(args[2]), Path.of(args[3])));
        } catch (RuntimeException | Error e) {
            log.error("Building the model cache failed", e);
            try {
                String why = e instanceof RuntimeException && e.getMessage() != null ? e.getMessage() : e.toString();
                Files.writeString(Path.of(args[4]), why, StandardCharsets.UTF_8);
            } catch (IOException io) {
                throw new UncheckedIOException(io);
            }
            System.exit(1);
        }
        System.exit(0);
    }
}
