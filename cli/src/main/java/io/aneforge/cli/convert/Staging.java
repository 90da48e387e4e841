package io.aneforge.cli.convert;

import io.aneforge.cli.CommandFailure;
import io.aneforge.io.IoProblems;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Output of a {@code convert} run, written under a hidden temporary directory inside its destination
 * ({@code .aneforge-partial-*}) and moved into place by {@link #commit} once every file is complete: a failed
 * run (full disk, a variant that does not build, Ctrl-C) leaves no half-written package, archive or
 * {@code variants.json} under a final name, and with {@code --force} the previous output stays until the new
 * one is there. The files keep their final names inside the temporary directory (a package's archive names
 * its directory), and renames within one directory's file system are atomic.
 *
 * <p>{@link #close} without a commit deletes the temporary directory, and the destination directories the run
 * created when they are left empty.
 */
public final class Staging implements AutoCloseable {

    static final String PREFIX = ".aneforge-partial-";

    private final Path destination;
    private final Path dir;
    /** Directories {@link #in} created, deepest first. */
    private final List<Path> created;
    private boolean committed;

    private Staging(Path destination, Path dir, List<Path> created) {
        this.destination = destination;
        this.dir = dir;
        this.created = created;
    }

    /** Creates {@code destination} (and its missing parents) and a temporary directory inside it. */
    public static Staging in(Path destination) {
        List<Path> created = new ArrayList<>();
        for (Path p = destination.toAbsolutePath().normalize(); p != null && !Files.exists(p); p = p.getParent()) {
            created.add(p);
        }
        try {
            Files.createDirectories(destination);
        } catch (IOException e) {
            removeEmpty(created);
            throw new CommandFailure("cannot create " + destination + ": " + IoProblems.describe(e, destination)
                    + ": choose another --out", e);
        }
        try {
            return new Staging(destination, Files.createTempDirectory(destination, PREFIX), created);
        } catch (IOException e) {
            removeEmpty(created);
            // NoSuchFileException names the new directory, which reads as if something were missing (/proc gives it)
            throw new CommandFailure("cannot create files in " + destination + (e instanceof java.nio.file.NoSuchFileException
                    ? "" : " (" + IoProblems.describe(e) + ")") + ": choose another --out", e);
        }
    }

    /** Where the run writes its files, under their final names. */
    public Path dir() {
        return dir;
    }

    /**
     * Moves {@code names} (files or directories written in {@link #dir()}) into the destination; existing
     * ones are replaced, each only once its replacement is complete. On a failure the names moved so far get
     * their previous files back.
     */
    public void commit(List<String> names) {
        Path old = dir.resolve(PREFIX + "replaced");
        List<String> placed = new ArrayList<>();
        try {
            Files.createDirectory(old);
            for (String name : names) {
                Path target = destination.resolve(name);
                if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    move(target, old.resolve(name));
                }
                placed.add(name);
                move(dir.resolve(name), target);
            }
        } catch (IOException e) {
            restore(placed, old);
            throw new CommandFailure("cannot move the output into " + destination + ": " + IoProblems.describe(e)
                    + " (the previous files are kept)", e);
        }
        committed = true;
        deleteTree(dir);
    }

    /** Best effort after a failed commit: each name moved so far gets its previous file back (or none, as before). */
    private void restore(List<String> placed, Path old) {
        for (String name : placed) {
            Path target = destination.resolve(name);
            try {
                if (!Files.exists(dir.resolve(name)) && Files.exists(target)) { // the new one arrived: out again
                    move(target, dir.resolve(name));
                }
                if (Files.exists(old.resolve(name))) {
                    move(old.resolve(name), target);
                }
            } catch (IOException ignored) {
                // the commit fails anyway, with its first error
            }
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    @Override
    public void close() {
        if (!committed) {
            deleteTree(dir);
            removeEmpty(created);
        }
    }

    private static void removeEmpty(List<Path> dirs) {
        for (Path d : dirs) {
            try {
                Files.deleteIfExists(d); // fails, and is kept, when something else is in it
            } catch (IOException ignored) {
                return;
            }
        }
    }

    /** Deletes a directory tree, best effort (cleaning up must not hide the error that made the run fail). */
    static void deleteTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // a leftover .aneforge-partial-* directory is never taken for output
        }
    }
}
