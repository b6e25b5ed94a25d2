package dev.bertclf.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes files and folders so that a crash, even a power loss, leaves either the old content or the new, never half of
 * either: temporary sibling, fsync, atomic rename, fsync of the folder.
 */
public final class AtomicFiles {
    private static final String TEMP_MARK = ".tmp-";

    private AtomicFiles() {
    }

    /** Something that writes to a stream. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Something that fills a folder. */
    @FunctionalInterface
    public interface FolderWriter {
        void write(Path folder) throws IOException;
    }

    /**
     * Writes {@code file} through a temporary sibling, fsyncs it, renames it into place and fsyncs the folder, so
     * that after a crash or power loss the file holds either its old content or the new. Temporary files that dead
     * processes left beside it are removed first.
     */
    public static void write(Path file, Writer writer) {
        Path target = file.toAbsolutePath();
        Path tmp = temp(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20) {
                    @Override
                    public void close() throws IOException {
                        flush(); // a writer that closes its stream must not close the channel before the fsync
                    }
                };
                writer.write(out);
                out.flush();
                ch.force(true);
            }
            move(tmp, target);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("Cannot write " + target + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    public static void writeString(Path file, String text) {
        write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * A temporary sibling of {@code file} for tools that write by path; pass it to {@link #commit}. Its name
     * carries this process's id; those of dead processes are removed here.
     */
    public static Path temp(Path file) {
        Path target = file.toAbsolutePath();
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + target.getParent() + ": " + e.getMessage(), e);
        }
        removeStaleTemps(target);
        return target.resolveSibling(target.getFileName() + TEMP_MARK + ProcessHandle.current().pid());
    }

    /** Removes {@code <name>.tmp-<pid>} siblings of {@code target} whose process no longer runs. */
    static void removeStaleTemps(Path target) {
        String prefix = target.getFileName() + TEMP_MARK;
        try (Stream<Path> siblings = Files.list(target.getParent())) {
            siblings.filter(p -> p.getFileName().toString().startsWith(prefix)).forEach(p -> {
                String pid = p.getFileName().toString().substring(prefix.length());
                if (pid.matches("\\d{1,18}") && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    deleteRecursively(p);
                }
            });
        } catch (IOException e) {
            // a stale temp file is only wasted space: never fail a write over it
        }
    }

    /** Fsyncs a finished temporary file (or every file of a folder), renames it into place, fsyncs the folder. */
    public static void commit(Path tmp, Path target) {
        try {
            syncTree(tmp);
            move(tmp, target.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot move " + tmp + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /** Fills a temporary sibling folder, then renames it to {@code folder}; fails if {@code folder} exists. */
    public static void writeFolder(Path folder, FolderWriter writer) {
        Path target = folder.toAbsolutePath();
        Path tmp = temp(target);
        try {
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            writer.write(tmp);
            syncTree(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            sync(target.getParent());
        } catch (IOException e) {
            deleteRecursively(tmp);
            throw new UncheckedIOException("Cannot write folder " + target + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteRecursively(tmp);
            throw e;
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        sync(target.getParent());
    }

    /** Fsyncs a file, or a folder and everything in it (files first, then their folders). */
    public static void syncTree(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (Stream<Path> s = Files.walk(p)) {
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                    sync(q);
                }
            }
        } else {
            sync(p);
        }
    }

    /** Fsyncs one file or folder (a folder's fsync makes the names in it, such as a rename, durable). */
    public static void sync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, Files.isDirectory(p) ? StandardOpenOption.READ
                : StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    public static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(AtomicFiles::deleteQuietly);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a leftover temp file is harmless and named as such
        }
    }
}
