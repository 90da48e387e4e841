package io.aneforge.worker.workdir;

import io.aneforge.worker.WorkerProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The per-conversion scratch directories {@code <work dir>/conversion-<id>/}, which hold packages and archives
 * while a conversion runs on this worker.
 *
 * <p>A worker killed with {@code kill -9} leaves its directory behind, and another worker may well finish that
 * conversion. Several workers on one host may share the work directory, so a directory is only deleted when no
 * live process uses it: a running conversion holds an OS file lock on {@code conversion-<id>/.lock} (released
 * by the OS when the process dies), and {@link #sweep} deletes exactly the directories whose lock it can take.
 * Creating, sweeping and deleting directories happen under one more lock, {@code <work dir>/.lock} (never
 * deleted), so that a sweep never deletes a directory between its creation and its lock being taken.
 */
@Component
public class WorkDirs {

    private static final Logger log = LoggerFactory.getLogger(WorkDirs.class);
    private static final String PREFIX = "conversion-";
    private static final Pattern NAME = Pattern.compile(PREFIX + "(\\d+)");
    static final String LOCK = ".lock";

    /**
     * File locks belong to the process: two workers in one JVM (tests) sharing a work directory would get an
     * OverlappingFileLockException from the root lock, so they queue here first.
     */
    private static final Map<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

    /**
     * The {@code conversion-<id>/.lock} files this process holds a lock on, whichever instance took it. On Linux
     * a Java file lock is a POSIX lock, and closing ANY channel on the file releases every lock the process holds
     * on it: a second worker in this JVM that merely opened the file to try it (and closed it on the
     * OverlappingFileLockException) would free the first one's lock for other processes. So nobody opens a
     * channel on a file listed here. Changed only under the root lock.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path root;
    private final Object jvmLock;
    private final Map<Long, FileChannel> claimed = new ConcurrentHashMap<>();

    public WorkDirs(WorkerProperties props) {
        this.root = props.workDir().toAbsolutePath().normalize();
        this.jvmLock = JVM_LOCKS.computeIfAbsent(root, r -> new Object());
    }

    /** The directory of a conversion this worker has {@link #claim claimed}. */
    public Path dir(long id) {
        return root.resolve(PREFIX + id);
    }

    /**
     * Creates the conversion's directory (if needed) and locks it for this process until {@link #release}.
     * Refused when another live process holds it (a worker whose lease of the same conversion ran out but which
     * has not noticed yet).
     */
    public Path claim(long id) {
        if (claimed.containsKey(id)) return dir(id);
        Path dir = dir(id);
        underRootLock(() -> {
            Path lockFile = dir.resolve(LOCK);
            if (HELD.contains(lockFile)) {
                throw new IllegalStateException("work directory " + dir + " is in use by another worker in this process"
                        + " (running conversion " + id + ")");
            }
            Files.createDirectories(dir);
            FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            boolean locked = false;
            try {
                locked = tryLock(channel) != null;
            } finally {
                if (!locked) channel.close();
            }
            if (!locked) {
                throw new IllegalStateException("work directory " + dir + " is in use by another process (a worker"
                        + " still running conversion " + id + ")");
            }
            HELD.add(lockFile);
            claimed.put(id, channel);
            return null;
        });
        return dir;
    }

    /** Deletes the conversion's directory and gives up its lock. */
    public void release(long id) {
        FileChannel channel = claimed.remove(id);
        if (channel == null) return;
        underRootLock(() -> {
            try {
                deleteTree(dir(id));
            } finally {
                try {
                    channel.close();
                } finally {
                    HELD.remove(dir(id).resolve(LOCK));
                }
            }
            return null;
        });
    }

    /**
     * Deletes the {@code conversion-<id>} directories no live process uses (left by a killed worker); returns
     * their ids. Directories this worker or another running worker holds are left alone.
     */
    public List<Long> sweep() {
        if (!Files.isDirectory(root)) return List.of();
        return underRootLock(() -> {
            List<Long> deleted = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
                for (Path dir : entries) {
                    Matcher m = NAME.matcher(dir.getFileName().toString());
                    if (!m.matches() || !Files.isDirectory(dir)) continue;
                    long id = Long.parseLong(m.group(1));
                    if (claimed.containsKey(id) || HELD.contains(dir.resolve(LOCK))) continue; // never opened: see HELD
                    if (deleteIfUnused(dir)) deleted.add(id);
                }
            }
            if (!deleted.isEmpty()) log.info("deleted work directories left by stopped workers: conversions {}", deleted);
            return deleted;
        });
    }

    private static boolean deleteIfUnused(Path dir) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (NoSuchFileException gone) {
            return false;
        }
        try (channel) {
            FileLock lock = tryLock(channel);
            if (lock == null) return false; // a live worker's conversion
            deleteTree(dir); // the lock goes with the file; closing the channel releases it
            return true;
        }
    }

    /** The lock, or null when another process (or another worker in this JVM) holds it. */
    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException inThisJvm) {
            return null;
        }
    }

    private interface Io<T> {
        T run() throws IOException;
    }

    private <T> T underRootLock(Io<T> body) {
        synchronized (jvmLock) {
            try {
                Files.createDirectories(root);
                try (FileChannel rootLock = FileChannel.open(root.resolve(LOCK), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock ignored = rootLock.lock()) {
                    return body.run();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("work directory " + root + " (ANEFORGE_WORKER_WORK_DIR): " + e.getMessage(), e);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
