package io.aneforge.agent.cache;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Predicate;

/**
 * How a cache entry built in a work directory appears under its final name: one atomic rename, safe when
 * several agent processes share the cache directory. Used by the artifact cache and the compiled-model cache.
 */
public final class EntryMove {

    private EntryMove() {
    }

    /**
     * Renames {@code staged} to {@code target}. When something is there already: a {@code complete} entry is
     * another process's identical result (it won the race), so theirs is kept; anything else (a directory
     * emptied by hand, disk trouble) would fail every job on that key forever, so it is renamed to
     * {@code aside} (inside the caller's work directory, deleted with it) and the rename is tried once more.
     */
    public static void intoPlace(Path staged, Path target, Path aside, Predicate<Path> complete) throws IOException {
        try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
            return;
        } catch (FileSystemException e) {
            // Linux and macOS refuse a rename onto a non-empty directory with a plain FileSystemException
            // ("Directory not empty"), not FileAlreadyExistsException: check what is there instead.
            if (complete.test(target)) {
                return;
            }
        }
        try {
            Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException gone) {
            // another process moved it aside (or replaced it) first
        }
        try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileSystemException e) {
            if (!complete.test(target)) {
                throw e;
            }
        }
    }
}
