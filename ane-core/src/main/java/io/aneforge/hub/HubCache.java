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
    /**
     * The Hub's repo id rules: {@code org/name}, each part letters, digits, {@code . _ -}, starting with a letter or
     * digit and not ending with {@code .} or {@code -}, at most 96 characters, no {@code --} or {@code ..}
     * ({@link #checkRepoId}); {@code --} would also make two ids share a cache directory.
     */
    private static final Pattern REPO_ID = Pattern.compile(
            "[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?");
    private static final Pattern REVISION_CHARS = Pattern.compile("[A-Za-z0-9._/-]+");
    private static final int MAX_REVISION = 256;
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

    /** Rejects ids the Hub does not allow, which could also escape or share cache directories. */
    public static void checkRepoId(String repoId) throws HubException {
        String problem = repoIdProblem(repoId);
        if (problem != null) {
            throw new HubException(HubException.Kind.REPO_NOT_FOUND_OR_PRIVATE, problem);
        }
    }

    /** Why {@code repoId} is not a Hub repo id, or null when it is one. */
    public static String repoIdProblem(String repoId) {
        if (repoId == null || !REPO_ID.matcher(repoId).matches() || repoId.contains("..") || repoId.contains("--")) {
            return "invalid repo id '" + repoId + "': expected org/name (letters, digits, '.', '_', '-'; no '--' or"
                    + " '..'; each part starting with a letter or digit and at most 96 characters)";
        }
        return null;
    }

    /**
     * Rejects revisions that are neither a commit nor a branch or tag name as git allows them: the revision
     * names a file under {@code refs/} in the cache, so {@code /etc/x} or {@code ../x} would write outside it.
     */
    public static void checkRevision(String revision) throws HubException {
        String problem = revisionProblem(revision);
        if (problem != null) {
            throw new HubException(HubException.Kind.REVISION_NOT_FOUND, problem);
        }
    }

    /**
     * Why {@code revision} is not a commit (40 hex) or a branch or tag name, or null when it is one: the rules of
     * {@code git check-ref-format} (no empty component, no component starting with {@code .} or ending with
     * {@code .lock}, no {@code ..}, not ending with {@code .}, not starting with {@code -}) on the characters the
     * Hub's names use (letters, digits, {@code . _ - /}), e.g. {@code main}, {@code v1.0}, {@code refs/pr/3}.
     */
    public static String revisionProblem(String revision) {
        String rule = null;
        if (revision == null || revision.isEmpty()) {
            rule = "it is empty";
        } else if (isCommit(revision)) {
            return null;
        } else if (revision.length() > MAX_REVISION) {
            rule = "it is longer than " + MAX_REVISION + " characters";
        } else if (!REVISION_CHARS.matcher(revision).matches()) {
            rule = "only letters, digits, '.', '_', '-' and '/' are allowed";
        } else if (revision.startsWith("/") || revision.endsWith("/") || revision.contains("//")) {
            rule = "it starts or ends with '/' or has an empty component";
        } else if (revision.startsWith("-")) {
            rule = "it starts with '-'";
        } else if (revision.contains("..") || revision.endsWith(".")) {
            rule = "it contains '..' or ends with '.'";
        } else {
            for (String component : revision.split("/")) {
                if (component.startsWith(".") || component.endsWith(".lock")) {
                    rule = "a component starts with '.' or ends with '.lock'";
                    break;
                }
            }
        }
        return rule == null ? null : "invalid revision '" + revision + "': " + rule + " (expected a branch, a tag,"
                + " refs/pr/N or a 40-hex commit)";
    }

    /** {@code path} when it lies strictly inside {@code dir}; refuses anything a name made resolve elsewhere. */
    private static Path inside(Path dir, Path path) throws HubException {
        Path d = dir.toAbsolutePath().normalize();
        Path p = path.toAbsolutePath().normalize();
        if (!p.startsWith(d) || p.equals(d)) {
            throw new HubException(HubException.Kind.ENTRY_NOT_FOUND, path + " would lie outside " + dir
                    + " of the Hub cache: refused");
        }
        return path;
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

    // Every path below comes from names a caller or the Hub gave (repo id, revision, file, etag): each is
    // checked by its rule first, and the resolved path must still lie inside its directory of the cache.

    public Path blob(String repoId, String etag) throws HubException {
        Path blobs = repoDir(repoId).resolve("blobs");
        return inside(blobs, blobs.resolve(etag));
    }

    public Path snapshot(String repoId, String commit, String file) throws HubException {
        Path snapshots = repoDir(repoId).resolve("snapshots");
        return inside(inside(snapshots, snapshots.resolve(commit)), snapshots.resolve(commit).resolve(file));
    }

    public Path noExist(String repoId, String commit, String file) throws HubException {
        Path noExist = repoDir(repoId).resolve(".no_exist");
        return inside(inside(noExist, noExist.resolve(commit)), noExist.resolve(commit).resolve(file));
    }

    /** {@code refs/{revision}}, for a valid branch or tag name only. */
    private Path ref(String repoId, String revision) throws HubException {
        checkRepoId(repoId);
        checkRevision(revision);
        Path refs = repoDir(repoId).resolve("refs");
        return inside(refs, refs.resolve(revision));
    }

    /** The commit a revision names: itself when 40-hex, else {@code refs/{revision}}. */
    public Optional<String> commitOf(String repoId, String revision) throws IOException {
        if (isCommit(revision)) {
            return Optional.of(revision);
        }
        Path ref = ref(repoId, revision);
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
        if (!isCommit(commit)) {
            throw new HubException(HubException.Kind.HTTP, "refusing to record '" + commit + "' as the commit of "
                    + repoId + "@" + revision + ": not 40 hex digits");
        }
        Path ref = ref(repoId, revision);
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
        Path locks = root.resolve(".locks").resolve(repoDir(repoId).getFileName());
        Path lockFile = inside(locks, locks.resolve(etag + ".lock"));
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
