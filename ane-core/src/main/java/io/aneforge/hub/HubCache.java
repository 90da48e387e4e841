package io.aneforge.hub;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * The Python tools' cache layout, so caches are shared both ways:
 * <pre>
 * {root}/models--{org}--{name}/blobs/{etag}              content (sha256 for LFS, git sha1 otherwise)
 *                             /refs/{revision}            one line: the 40-hex commit
 *                             /snapshots/{commit}/{path}  relative symlink to ../../blobs/{etag}
 *                             /.no_exist/{commit}/{path}  empty marker: known to be absent
 * {root}/.locks/models--{org}--{name}/{etag}.lock         download lock, shared with other processes
 * </pre>
 */
public final class HubCache {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
    /** JVM-wide: a FileLock is per process, so threads of one process also need a plain lock. */
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL_LOCKS = new ConcurrentHashMap<>();

    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public static boolean isCommit(String revision) {
        return revision != null && COMMIT.matcher(revision).matches();
    }

    /** Rejects ids that could escape the cache directory. */
    public static void checkRepoId(String repoId) throws HubException {
        if (repoId == null || !REPO_ID.matcher(repoId).matches() || repoId.contains("..")) {
            throw new HubException(HubException.Kind.REPO_NOT_FOUND_OR_PRIVATE, "invalid repo id '" + repoId
                    + "': expected org/name");
        }
    }

    /** Rejects file names with absolute paths or {@code ..} segments (a hostile listing must not escape). */
    static void checkFileName(String file) throws HubException {
        if (file == null || file.isEmpty() || file.startsWith("/") || file.contains("\\") || file.contains("\0")) {
            throw new HubException(HubException.Kind.ENTRY_NOT_FOUND, "invalid file name '" + file + "'");
        }
        for (String seg : file.split("/")) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
                throw new HubException(HubException.Kind.ENTRY_NOT_FOUND, "invalid file name '" + file + "'");
            }
        }
    }

    public Path repoDir(String repoId) {
        return root.resolve("models--" + repoId.replace("/", "--"));
    }

    public Path blob(String repoId, String etag) {
        return repoDir(repoId).resolve("blobs").resolve(etag);
    }

    public Path snapshot(String repoId, String commit, String file) {
        return repoDir(repoId).resolve("snapshots").resolve(commit).resolve(file);
    }

    public Path noExist(String repoId, String commit, String file) {
        return repoDir(repoId).resolve(".no_exist").resolve(commit).resolve(file);
    }

    /** The commit a revision names: itself when 40-hex, else {@code refs/{revision}}. */
    public Optional<String> commitOf(String repoId, String revision) throws IOException {
        if (isCommit(revision)) {
            return Optional.of(revision);
        }
        Path ref = repoDir(repoId).resolve("refs").resolve(revision);
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        String sha = Files.readString(ref, StandardCharsets.US_ASCII).strip();
        return isCommit(sha) ? Optional.of(sha) : Optional.empty();
    }

    public void writeRef(String repoId, String revision, String commit) throws IOException {
        if (isCommit(revision)) {
            return;
        }
        Path ref = repoDir(repoId).resolve("refs").resolve(revision);
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(ref.getFileName() + uniqueSuffix());
        Files.writeString(tmp, commit, StandardCharsets.US_ASCII);
        Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public void markMissing(String repoId, String commit, String file) throws IOException {
        Path marker = noExist(repoId, commit, file);
        Files.createDirectories(marker.getParent());
        try {
            Files.createFile(marker);
        } catch (FileAlreadyExistsException e) {
            // Already known to be absent.
        }
    }

    /** Points {@code snapshots/{commit}/{file}} at the blob with a relative symlink (copy where links fail). */
    public Path link(String repoId, String commit, String file, String etag) throws IOException {
        Path target = snapshot(repoId, commit, file);
        Files.createDirectories(target.getParent());
        Path blob = blob(repoId, etag);
        Path relative = target.getParent().relativize(blob);
        Path tmp = target.resolveSibling(target.getFileName() + uniqueSuffix());
        Files.deleteIfExists(tmp);
        try {
            Files.createSymbolicLink(tmp, relative);
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /** Temporary-file suffix unique across processes and threads sharing the cache. */
    private static String uniqueSuffix() {
        return "." + ProcessHandle.current().pid() + "." + Thread.currentThread().getId() + "." + System.nanoTime()
                + ".tmp";
    }

    /** An exclusive lock on one blob across threads and processes; close it to release. */
    public BlobLock lock(String repoId, String etag) throws IOException {
        Path lockFile = root.resolve(".locks").resolve(repoDir(repoId).getFileName()).resolve(etag + ".lock");
        Files.createDirectories(lockFile.getParent());
        ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(lockFile.toAbsolutePath(), k -> new ReentrantLock());
        local.lock();
        try {
            FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                return new BlobLock(local, channel, channel.lock());
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            local.unlock();
            throw e;
        }
    }

    /** Held while a blob is being downloaded or moved into place. */
    public static final class BlobLock implements AutoCloseable {
        private final ReentrantLock local;
        private final FileChannel channel;
        private final FileLock lock;

        private BlobLock(ReentrantLock local, FileChannel channel, FileLock lock) {
            this.local = local;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                lock.release();
                channel.close();
            } finally {
                local.unlock();
            }
        }
    }
}
