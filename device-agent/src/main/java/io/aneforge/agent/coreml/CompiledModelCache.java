package io.aneforge.agent.coreml;

import io.aneforge.agent.cache.EntryMove;
import io.aneforge.agent.cache.LeastRecentlyUsed;
import io.aneforge.io.IoProblems;
import io.aneforge.runtime.RuntimeLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiled models ({@code .mlmodelc}) cached per package content and OS build:
 * {@code <dir>/<osBuild>/<packageDigest>.mlmodelc}. The Core ML compiler ships with the OS,
 * so a new build (23F79 → 23G80) compiles again, while repeated benchmarks of the same package
 * on the same build skip the compile. The package digest is a SHA-256 over the package tree
 * (each regular file's relative path, a NUL, its length and its bytes, in path order), so
 * the key does not depend on where the package was unpacked.
 *
 * <p>Bounded by {@code maxBytes} ({@code aneforge.agent.cache.compiled-max-size}): before a compile (with the
 * package's size as the estimate of the model's) and after it, the least recently used models are evicted
 * ({@link LeastRecentlyUsed}, as the artifact cache does) across every OS build, so the models of a build the OS
 * has moved past, never used again, go first. A model kept over the cap because it was in use goes when it is
 * released (its {@link CompiledModel} closed: the same pass runs then), not only at the next compile. A model's
 * directory modification time, set each time it is handed out, orders eviction and survives restarts.
 *
 * <p>A model handed out by {@link #compiled} is in use until its {@link CompiledModel} is closed (the loaded
 * {@code MLModel} may read its directory after the load) and is never evicted, by this process or by another agent
 * sharing the directory: in use is a file {@code <packageDigest>.mlmodelc.in-use-<pid>-<start>-<n>} beside it,
 * naming the process and its start time (ms). A mark whose process has ended, or whose pid now names a process
 * started at another time, is stale and removed. Where a start time cannot be read (on either side: the mark was
 * written without one, or the running process does not show its own), the pid alone decides: a running process
 * with that pid keeps the model, since a model kept too long beats one deleted while in use. Marking and evicting
 * happen under an exclusive lock on {@code <dir>/.lock}, so a mark cannot appear between eviction's look at the
 * marks and its rename.
 *
 * <p>Work directories carry their process the same way: {@code .compiling-<pid>-<start>-*} (a compiled model being
 * copied in) and {@code .evicting-<pid>-<start>-*} (one being deleted). Those of a process no longer running, an
 * agent killed mid-compile, are deleted on every eviction pass; the first runs when the cache is created.
 *
 * <p>A pid means something only on its own host (and, on Linux, in its own pid namespace: a container's), so the
 * directory belongs to one host: every pass first claims it ({@link CacheClaim}, {@code <dir>/.host}: the host's names
 * and, where it can be read, the machine's identity), and an agent of another host is refused ({@link #compiled} and
 * the constructor throw, naming the directory, the other host and the fix), instead of taking that host's live agents
 * for ended ones and deleting models they have in use and copies they are making. Agents on one machine may share the
 * directory, under one name or, where the machine's identity can be read, under several ({@link CacheClaim} says
 * when).
 *
 * <p>Eviction is housekeeping: a model that cannot be moved aside or deleted is logged and left, and the load goes
 * on (the cache stays over its cap until a later pass succeeds); what one pass moved aside is deleted before it
 * returns, whatever failed.
 */
final class CompiledModelCache {

    private static final Logger log = LoggerFactory.getLogger(CompiledModelCache.class);

    private static final Pattern OS_BUILD = Pattern.compile("[0-9A-Za-z][0-9A-Za-z.]{0,31}");
    static final String LOCK_FILE = ".lock";
    static final String MODEL_SUFFIX = ".mlmodelc";
    static final String IN_USE = ".in-use-";
    static final String COMPILING = ".compiling-";
    static final String EVICTING = ".evicting-";
    /** What follows a mark's or work directory's prefix: {@code <pid>-<start ms>-...}. */
    private static final Pattern OWNER = Pattern.compile("(\\d{1,19})-(\\d{1,19})-.*");
    /** Two reads of one process's start time can differ by rounding; a reused pid's process started much later. */
    private static final Duration SAME_START = Duration.ofSeconds(1);
    /**
     * Every instance in this JVM takes its file lock through this one monitor: a file lock belongs to the whole
     * process, the JDK refuses a second lock on a file this JVM already holds locked, and one directory can be named
     * two ways (a symbolic link; /tmp and /private/tmp on macOS), so a monitor per spelling would not keep two
     * instances apart. An agent has one cache; the work under the lock is short.
     */
    private static final Object FILE_LOCK_HOLDER = new Object();
    private static final AtomicLong MARKS = new AtomicLong();

    private final Path dir;
    private final String osBuild;
    private final long maxBytes;
    private final CacheClaim.Claimant claimant;
    private final String owner;
    private final Clock clock;

    /**
     * @param agentName the name the agent registers with ({@code aneforge.agent.host-name}), or empty for the OS's host
     *     name: the directory is claimed by it and this machine's identity ({@link CacheClaim.Claimant#thisHost})
     */
    CompiledModelCache(Path dir, String osBuild, long maxBytes, String agentName) {
        this(dir, osBuild, maxBytes, CacheClaim.Claimant.thisHost(agentName), ProcessHandle.current(),
                Clock.systemUTC());
    }

    /**
     * @param claimant the host this cache's pids belong to, by which it claims the directory
     *     ({@link CacheClaim.Claimant#thisHost}; another one in tests, to play an agent elsewhere)
     * @param self the process this cache marks models and work directories with (another one in tests, to play
     *     a second agent)
     * @throws RuntimeLoadException when the directory cannot be prepared or belongs to another host
     */
    CompiledModelCache(Path dir, String osBuild, long maxBytes, CacheClaim.Claimant claimant, ProcessHandle self,
            Clock clock) {
        if (!OS_BUILD.matcher(osBuild).matches()) {
            throw new IllegalArgumentException("OS build '" + osBuild
                    + "' is not a build identifier like 23F79 (letters, digits, dots)");
        }
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("the compiled-model cache's cap must be > 0 bytes, got " + maxBytes
                    + " (aneforge.agent.cache.compiled-max-size)");
        }
        this.dir = dir.toAbsolutePath().normalize();
        this.osBuild = osBuild;
        this.maxBytes = maxBytes;
        this.claimant = claimant;
        this.owner = self.pid() + "-" + startMillis(self).orElse(0L) + "-";
        this.clock = clock;
        try {
            Files.createDirectories(this.dir.resolve(osBuild));
        } catch (IOException e) {
            throw new RuntimeLoadException("cannot prepare the compiled-model cache at " + this.dir + ": "
                    + IoProblems.describe(e) + " (check aneforge.agent.cache.dir)", e);
        }
        if (claimant.identity().found().isEmpty()) {
            log.warn("compiled-model cache {}: this machine's identity cannot be read ({}), so the directory is claimed by"
                    + " host name only ('{}'): another name is another host, even on this machine", this.dir,
                    claimant.identity().unavailable(), claimant.host());
        }
        evictOver(maxBytes); // claims the directory for this host; a lowered cap applies now; leftovers of a killed agent go
    }

    /** A compiled model handed out by the cache: in use, so never evicted, until closed. */
    final class CompiledModel implements AutoCloseable {
        private final Path path;
        private final Path mark;
        private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

        CompiledModel(Path path, Path mark) {
            this.path = path;
            this.mark = mark;
        }

        /** The {@code .mlmodelc} directory. */
        Path path() {
            return path;
        }

        /**
         * Ends the use, then evicts what the cache holds over its cap ({@link #released}); closing twice is harmless.
         * Never throws: the job is over, and eviction is housekeeping.
         */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                unmark(mark);
                released();
            }
        }
    }

    /**
     * A model just stopped being in use: models kept over the cap only because they were in use can go now, rather
     * than at the next compile, which may not come for a long time (an agent that benchmarks cached models only).
     * The same pass as before a compile, under the same lock; its trouble is logged, never thrown.
     */
    private void released() {
        try {
            evictOver(maxBytes);
        } catch (RuntimeException e) {
            // A directory of another host (refused by the pass): the next compile says so to a job; here only logged.
            log.warn("cannot evict from the compiled-model cache {} after a model was released: {}", dir,
                    e.getMessage());
        }
    }

    /** Where the compiled form of {@code mlpackage} lives for this OS build. */
    Path keyFor(Path mlpackage) {
        return dir.resolve(osBuild).resolve(packageDigest(mlpackage) + MODEL_SUFFIX);
    }

    /**
     * The cached compiled model, compiling (and moving into place) on a miss; in use until the returned handle is
     * closed. Marked in use before the look, so an eviction elsewhere either ran before (and the model is compiled
     * again) or keeps it.
     */
    CompiledModel compiled(Path mlpackage, Function<Path, Path> compiler) {
        Path target = keyFor(mlpackage);
        Path mark = markInUse(target);
        try {
            if (!complete(target)) {
                evictOver(Math.max(0, maxBytes - LeastRecentlyUsed.sizeOnDisk(mlpackage)));
                compileInto(target, mlpackage, compiler);
                markUsed(target);
                evictOver(maxBytes); // a hit adds no bytes
            } else {
                markUsed(target);
            }
            return new CompiledModel(target, mark);
        } catch (RuntimeException | Error e) {
            unmark(mark);
            throw e;
        }
    }

    private void markUsed(Path model) {
        try {
            Files.setLastModifiedTime(model, FileTime.from(clock.instant()));
        } catch (IOException e) {
            throw new RuntimeLoadException("cannot mark the compiled model " + model + " as used: "
                    + IoProblems.describe(e) + " (check aneforge.agent.cache.dir)", e);
        }
    }

    private void compileInto(Path target, Path mlpackage, Function<Path, Path> compiler) {
        Path produced = compiler.apply(mlpackage);
        try {
            Files.createDirectories(target.getParent());
            Path staging = Files.createTempDirectory(target.getParent(), COMPILING + owner);
            try {
                Path staged = staging.resolve("m" + MODEL_SUFFIX);
                // Core ML compiles into its own temp dir, often on another volume: copy, then rename.
                copyTree(produced, staged);
                EntryMove.intoPlace(staged, target, staging.resolve("broken"), CompiledModelCache::complete);
            } finally {
                deleteTree(staging); // a partial copy too (a full disk): only a killed process leaves one
            }
            deleteTree(produced);
        } catch (IOException e) {
            throw new RuntimeLoadException("cannot cache the compiled model of " + mlpackage + " in " + dir + ": "
                    + IoProblems.describe(e) + " (check aneforge.agent.cache.dir)", e);
        }
    }

    /** Bytes the compiled models of every OS build hold. */
    long sizeBytes() {
        long total = 0;
        for (Path build : buildDirs()) {
            for (Path p : children(build)) {
                if (p.getFileName().toString().endsWith(MODEL_SUFFIX) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    total += LeastRecentlyUsed.sizeOnDisk(p);
                }
            }
        }
        return total;
    }

    /**
     * Under the lock: removes marks and work directories of processes that have ended, then moves the least
     * recently used models not in use aside until the rest hold at most {@code cap}; deletes them after the lock.
     * Trouble is logged, not thrown: a model that cannot be moved is left and the next one tried, and what was moved
     * aside is deleted even when the pass fails half-way (left for the life of this agent, it would count against
     * no cap and no pass would delete it). Only a directory of another host is refused, by a
     * {@link RuntimeLoadException}.
     */
    private void evictOver(long cap) {
        List<Path> doomed = new ArrayList<>();
        try {
            underLock(() -> {
                List<LeastRecentlyUsed.Entry> models = new ArrayList<>();
                for (Path build : buildDirs()) {
                    models.addAll(sweep(build));
                }
                for (LeastRecentlyUsed.Entry victim : LeastRecentlyUsed.toEvict(models, cap)) {
                    try {
                        Path aside = Files.createTempDirectory(victim.path().getParent(), EVICTING + owner);
                        doomed.add(aside);
                        // Renamed first, so no one is handed a half-deleted model.
                        Files.move(victim.path(), aside.resolve("m" + MODEL_SUFFIX), StandardCopyOption.ATOMIC_MOVE);
                        log.info("evicted compiled model {} ({} bytes, last used {}): the compiled-model cache holds at"
                                + " most {} bytes (aneforge.agent.cache.compiled-max-size)", victim.path(),
                                victim.sizeBytes(), victim.lastUsed(), maxBytes);
                    } catch (IOException e) {
                        log.warn("cannot evict compiled model {} ({} bytes): {}; it stays, and the compiled-model cache"
                                + " may stay above its {} bytes until a later pass can (check aneforge.agent.cache.dir)",
                                victim.path(), victim.sizeBytes(), IoProblems.describe(e), maxBytes);
                    }
                }
                return null;
            });
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot evict from the compiled-model cache {}: {}; the load goes on, and the cache may stay above"
                    + " its {} bytes until a later pass can (check aneforge.agent.cache.dir and its disk)", dir,
                    IoProblems.describe(e), maxBytes);
        } finally {
            for (Path p : doomed) {
                deleteQuietly(p, "an evicted model");
            }
        }
    }

    /**
     * Deletes the work directory {@code p}; on failure logs it: a later pass, once the process it names has ended,
     * tries again.
     */
    private static void deleteQuietly(Path p, String what) {
        try {
            deleteTree(p);
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot delete {} ({}): {}; a later pass tries again once its agent has ended", p, what,
                    IoProblems.describe(e));
        }
    }

    /**
     * One build directory's models as eviction sees them, after deleting what ended processes left there: marks
     * and work directories (an interrupted compile's partial copy, an interrupted eviction's model).
     */
    private List<LeastRecentlyUsed.Entry> sweep(Path build) throws IOException {
        Set<String> inUse = new HashSet<>();
        List<Path> models = new ArrayList<>();
        for (Path p : children(build)) {
            String name = p.getFileName().toString();
            int mark = name.indexOf(IN_USE);
            if (mark > 0) {
                if (ownerAlive(name.substring(mark + IN_USE.length()))) {
                    inUse.add(name.substring(0, mark));
                } else {
                    unmark(p); // a stale mark left behind only keeps its model a while longer
                }
            } else if (name.startsWith(COMPILING) || name.startsWith(EVICTING)) {
                String rest = name.substring(name.startsWith(COMPILING) ? COMPILING.length() : EVICTING.length());
                if (!ownerAlive(rest)) {
                    log.info("deleting {}, left by agent process {} that has ended", p, rest.split("-")[0]);
                    deleteQuietly(p, "left by an ended agent");
                }
            } else if (name.endsWith(MODEL_SUFFIX) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                models.add(p);
            }
        }
        List<LeastRecentlyUsed.Entry> entries = new ArrayList<>();
        for (Path m : models) {
            entries.add(new LeastRecentlyUsed.Entry(m, LeastRecentlyUsed.sizeOnDisk(m), lastUsed(m), inUse.contains(m.getFileName().toString())));
        }
        return entries;
    }

    /** Whether {@code <pid>-<start ms>-...} names a running process (the same one: a pid can be reused). */
    private static boolean ownerAlive(String token) {
        Matcher m = OWNER.matcher(token);
        if (!m.matches()) {
            return false; // not written by this code: nobody will ever release it
        }
        long pid;
        long start;
        try {
            pid = Long.parseLong(m.group(1));
            start = Long.parseLong(m.group(2));
        } catch (NumberFormatException e) {
            return false;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return false;
        }
        Optional<Long> actual = startMillis(process.get());
        // Unknown on either side: the pid alone says it; a model kept too long beats one deleted while in use.
        return start == 0 || actual.isEmpty()
                || Math.abs(actual.get() - start) <= SAME_START.toMillis();
    }

    private static Optional<Long> startMillis(ProcessHandle process) {
        return process.info().startInstant().map(Instant::toEpochMilli);
    }

    private Path markInUse(Path target) {
        try {
            return underLock(() -> {
                Files.createDirectories(target.getParent());
                Path mark = target.resolveSibling(target.getFileName() + IN_USE + owner + MARKS.incrementAndGet());
                Files.createFile(mark);
                return mark;
            });
        } catch (IOException e) {
            throw new RuntimeLoadException("cannot mark the compiled model " + target + " in use: "
                    + IoProblems.describe(e) + " (check aneforge.agent.cache.dir)", e);
        }
    }

    private static void unmark(Path mark) {
        try {
            Files.deleteIfExists(mark);
        } catch (IOException e) {
            // The model stays in use until this process ends; then the mark is stale and removed.
            log.warn("cannot remove in-use mark {}: {}", mark, IoProblems.describe(e));
        }
    }

    private interface LockedWork<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code work} holding {@code <dir>/.lock} exclusively (against this JVM's other instances and other agents),
     * after making sure the directory is this host's.
     */
    private <T> T underLock(LockedWork<T> work) throws IOException {
        Path lockFile = dir.resolve(LOCK_FILE);
        synchronized (FILE_LOCK_HOLDER) {
            Files.createDirectories(dir);
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock held = channel.lock()) {
                CacheClaim.claim(dir, claimant);
                return work.run();
            }
        }
    }

    private List<Path> buildDirs() {
        List<Path> builds = new ArrayList<>();
        for (Path p : children(dir)) {
            if (OS_BUILD.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                builds.add(p);
            }
        }
        return builds;
    }

    private static List<Path> children(Path directory) {
        List<Path> list = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
            ds.forEach(list::add);
        } catch (NoSuchFileException e) {
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory, e);
        }
        list.sort(Comparator.naturalOrder());
        return list;
    }

    private static FileTime lastUsed(Path model) {
        try {
            return Files.getLastModifiedTime(model, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return FileTime.fromMillis(0); // oldest, evicted first
        }
    }

    /** A compiled model: a directory with something in it (models appear only by a rename of a full copy). */
    private static boolean complete(Path target) {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (Stream<Path> s = Files.list(target)) {
            return s.findAny().isPresent();
        } catch (IOException e) {
            return false;
        }
    }

    static String packageDigest(Path mlpackage) {
        if (!Files.isDirectory(mlpackage)) {
            throw new RuntimeLoadException(mlpackage + " is not a directory: a .mlpackage is a directory with "
                    + "Manifest.json; unzip the artifact first");
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
        List<Path> files;
        try (Stream<Path> s = Files.walk(mlpackage)) {
            files = s.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted(
                    Comparator.comparing(p -> relative(mlpackage, p))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + mlpackage, e);
        }
        byte[] buf = new byte[64 * 1024];
        for (Path f : files) {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new RuntimeLoadException(mlpackage + " contains " + relative(mlpackage, f)
                        + ", which is not a regular file (symbolic link?); packages must hold plain files");
            }
            try (InputStream in = Files.newInputStream(f)) {
                sha.update(relative(mlpackage, f).getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(ByteBuffer.allocate(8).putLong(Files.size(f)).array());
                int n;
                while ((n = in.read(buf)) > 0) {
                    sha.update(buf, 0, n);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String relative(Path root, Path p) {
        return root.relativize(p).toString().replace('\\', '/');
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
