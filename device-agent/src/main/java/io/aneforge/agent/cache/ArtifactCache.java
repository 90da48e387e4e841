package io.aneforge.agent.cache;

import io.aneforge.io.IoProblems;
import io.aneforge.mlpackage.MlPackageException;
import io.aneforge.mlpackage.PackageArchive;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local content-addressed cache of unpacked {@code .mlpackage} artifacts.
 *
 * <p>Layout: {@code <root>/sha256/<hex>/model.mlpackage/…} plus {@code <hex>/.last-used},
 * whose modification time orders eviction (least recently used first, survives restarts).
 * Work happens in {@code <root>/tmp/} and an entry appears by one directory rename, so a
 * crash never leaves a half-written entry under {@code sha256/}; {@code tmp/} is emptied
 * on start. An entry directory found incomplete when a download is moved into place (its
 * package removed by hand, say) is replaced; a complete one (another agent process sharing
 * the directory won the race) is kept.
 *
 * <p>Download: bytes stream through SHA-256 into a temp file; a digest mismatch (or more bytes
 * than announced) downloads once more, and a second mismatch throws, leaving nothing in the cache.
 * Every failure says whose {@link Fault} it is: the artifact's (a blob that is corrupt the same way
 * twice, 404, an unsafe or invalid archive: final), the transfer's (connection trouble, timeouts,
 * 5xx/429, a body cut short, two downloads that differ) or this host's (a full disk, a cache
 * directory it cannot write). Unpack: a safe unzip (ane-core's {@link PackageArchive#unzip}: names,
 * links, duplicates, entry and size caps) and a package root check (Manifest.json at the top of the
 * archive or inside a single {@code *.mlpackage} directory).
 *
 * <p>Eviction (least recently used first) runs before a download, to keep the cache under
 * {@code maxBytes} with the new entry (estimated at the archive's announced size) and to leave
 * the disk room for the archive and its unpacked copy (evicting beyond the cap if the disk needs
 * it), and again after the insert, with the real size; it never evicts the entry just returned.
 * One instance per cache directory; methods are synchronized (the agent runs one job at a time,
 * so downloads need not overlap).
 */
public final class ArtifactCache {

    private static final Logger log = LoggerFactory.getLogger(ArtifactCache.class);

    static final String PACKAGE_DIR = "model.mlpackage";
    static final String LAST_USED = ".last-used";
    static final String MANIFEST = "Manifest.json";

    private final Path root;
    private final Path entries;
    private final Path tmp;
    private final long maxBytes;
    private final ArtifactSource source;
    private final UnzipLimits limits;
    private final Clock clock;

    public ArtifactCache(Path root, long maxBytes, ArtifactSource source, UnzipLimits limits, Clock clock) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("cache size cap must be > 0 bytes, got " + maxBytes);
        }
        this.root = root.toAbsolutePath().normalize();
        this.entries = this.root.resolve("sha256");
        this.tmp = this.root.resolve("tmp");
        this.maxBytes = maxBytes;
        this.source = source;
        this.limits = limits;
        this.clock = clock;
        try {
            Files.createDirectories(entries);
            deleteTree(tmp);
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new ArtifactCacheException(Fault.HOST, "cannot prepare artifact cache at " + this.root + ": " + e.getMessage()
                    + " (check aneforge.agent.cache.dir)", e);
        }
    }

    /**
     * The artifact, from the cache or downloaded, verified and unpacked; marks it used.
     *
     * @throws ArtifactCacheException naming the problem; its {@link ArtifactCacheException#fault() fault} says
     *     whether it is the artifact's (final) or the transfer's or this host's (worth another try)
     */
    public synchronized CachedArtifact get(ArtifactRef ref) {
        Optional<CachedArtifact> hit = lookup(ref.sha256Hex());
        if (hit.isPresent()) {
            touch(entries.resolve(ref.sha256Hex()));
            return hit.get();
        }
        makeRoom(ref);
        CachedArtifact added = download(ref);
        evictOver(maxBytes, ref.sha256Hex());
        return added;
    }

    /** The cached entry for a digest, without downloading or marking it used. */
    public synchronized Optional<CachedArtifact> lookup(String sha256Hex) {
        Path entry = entries.resolve(sha256Hex);
        Path pkg = entry.resolve(PACKAGE_DIR);
        if (!Files.isRegularFile(pkg.resolve(MANIFEST))) {
            return Optional.empty();
        }
        return Optional.of(new CachedArtifact(sha256Hex, pkg, LeastRecentlyUsed.sizeOnDisk(entry)));
    }

    /** Bytes currently held under {@code sha256/}. */
    public synchronized long sizeBytes() {
        return listEntries().stream().mapToLong(LeastRecentlyUsed::sizeOnDisk).sum();
    }

    /**
     * Whether this host can write into the cache now (a 64 KiB probe file in {@code tmp/}, written and deleted):
     * empty when it can, else what is wrong. An agent whose disk was full asks this before it takes another job.
     */
    public synchronized Optional<String> writeProblem() {
        Path probe = null;
        try {
            Files.createDirectories(tmp);
            probe = Files.createTempFile(tmp, "probe-", ".bin");
            Files.write(probe, new byte[64 * 1024]);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot write into the artifact cache " + tmp + ": " + IoProblems.describe(e));
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // emptied on the next start
                }
            }
        }
    }

    /**
     * Before a download: evicts least recently used entries so that the cache stays under its cap with the new one
     * (its unpacked size is about the archive's), and further while the disk has less free space than the archive
     * and its unpacked copy need together. Without this a disk that holds the cap but not the cap plus one artifact
     * fails the download, and the eviction that would have made room runs only after a successful insert.
     */
    private void makeRoom(ArtifactRef ref) {
        long size = ref.sizeBytes();
        if (size < 0) {
            return; // unknown size (the registry always sends it): only the eviction after the insert applies
        }
        evictOver(Math.max(0, maxBytes - size), ref.sha256Hex());
        long need = size > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : 2 * size;
        long free = usableSpace();
        if (free >= need) {
            return;
        }
        List<Path> byAge = new ArrayList<>(LeastRecentlyUsed.oldestFirst(evictionView(ref.sha256Hex())).stream()
                .filter(e -> !e.inUse()).map(LeastRecentlyUsed.Entry::path).toList());
        while (free < need) {
            if (byAge.isEmpty()) {
                throw new ArtifactCacheException(Fault.HOST, "not enough disk space for artifact " + ref.digest() + " ("
                        + size + " bytes; the archive and its unpacked copy need about " + need + ") in " + root + ": "
                        + free + " bytes free with no other artifact left to evict. Free some space on that disk, or set"
                        + " aneforge.agent.cache.dir to a bigger one");
            }
            evict(byAge.remove(0));
            free = usableSpace();
        }
    }

    private long usableSpace() {
        try {
            return Files.getFileStore(tmp).getUsableSpace();
        } catch (IOException e) {
            throw new ArtifactCacheException(Fault.HOST, "cannot read the free space of " + tmp + ": "
                    + IoProblems.describe(e), e);
        }
    }

    private CachedArtifact download(ArtifactRef ref) {
        Path work;
        try {
            work = Files.createTempDirectory(tmp, ref.sha256Hex().substring(0, 12) + "-");
        } catch (IOException e) {
            throw new ArtifactCacheException(Fault.HOST, "cannot create a work directory in " + tmp + ": "
                    + IoProblems.describe(e) + " (check aneforge.agent.cache.dir and its disk)", e);
        }
        try {
            Path zip = work.resolve("artifact.zip");
            Fetched first = fetch(ref, zip);
            String problem = problem(ref, first);
            if (problem != null) {
                // One more download tells a transfer that corrupted the bytes from a blob that is corrupt.
                log.warn("{}; downloading it once more", problem);
                Fetched second = fetch(ref, zip);
                problem = problem(ref, second);
                if (problem != null) {
                    boolean same = first.equals(second);
                    throw new ArtifactCacheException(same ? Fault.ARTIFACT : Fault.TRANSFER, problem + (same
                            ? ". Two downloads gave the same bytes, so the blob the registry stores is corrupt: restore"
                                    + " it or publish the variant again"
                            : ". Two downloads gave different bytes: the transfer is corrupting them (a proxy, the"
                                    + " network); it is tried again later"));
                }
            }
            Path unzipped = work.resolve("unzipped");
            Files.createDirectories(unzipped);
            try {
                PackageArchive.unzip(zip, unzipped, limits.toArchiveLimits());
            } catch (MlPackageException e) {
                // Unzipping reads the (verified) archive and writes files: a full disk is this host's problem.
                throw new ArtifactCacheException(DiskTrouble.in(e) ? Fault.HOST : Fault.ARTIFACT,
                        "artifact " + ref.digest() + ": " + e.getMessage(), e);
            }
            Files.delete(zip);
            Path pkgRoot = packageRoot(ref, unzipped);
            Path staged = work.resolve("entry");
            Files.createDirectories(staged);
            Files.move(pkgRoot, staged.resolve(PACKAGE_DIR));
            Files.createFile(staged.resolve(LAST_USED));
            touch(staged);
            Path entry = entries.resolve(ref.sha256Hex());
            EntryMove.intoPlace(staged, entry, work.resolve("replaced"), e -> lookup(ref.sha256Hex()).isPresent());
            return lookup(ref.sha256Hex()).orElseThrow(() -> new IllegalStateException(
                    "entry " + entry + " vanished right after it was moved into place"));
        } catch (IOException e) {
            // Only local file operations are left here (the download's own errors are classified in fetch).
            throw new ArtifactCacheException(Fault.HOST, "cannot store artifact " + ref.digest() + " in " + root + ": "
                    + IoProblems.describe(e), e);
        } finally {
            deleteTree(work);
        }
    }

    /** What a download produced: its length and sha256, or that it ran past the announced size. */
    private record Fetched(long bytes, String sha256Hex, boolean overlong) {}

    /**
     * Streams the artifact into {@code target}. A failure to read the body is the transfer's fault, a failure to
     * write the file this host's; a body that ends before the announced size is a transfer cut short.
     */
    private Fetched fetch(ArtifactRef ref, Path target) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
        InputStream body;
        try {
            body = source.open(ref);
        } catch (DownloadStatusException e) {
            throw new ArtifactCacheException(e.fault(), e.getMessage() + "; nothing was cached", e);
        } catch (IOException e) {
            throw transferFailed(ref, e);
        }
        long n = 0;
        try (InputStream in = body) {
            OutputStream out;
            try {
                out = Files.newOutputStream(target);
            } catch (IOException e) {
                throw writeFailed(ref, target, e);
            }
            try (out) {
                byte[] buf = new byte[64 * 1024];
                while (true) {
                    int r;
                    try {
                        r = in.read(buf);
                    } catch (IOException e) {
                        throw transferFailed(ref, e);
                    }
                    if (r < 0) {
                        break;
                    }
                    n += r;
                    if (ref.sizeBytes() >= 0 && n > ref.sizeBytes()) {
                        return new Fetched(n, null, true);
                    }
                    sha.update(buf, 0, r);
                    try {
                        out.write(buf, 0, r);
                    } catch (IOException e) {
                        throw writeFailed(ref, target, e);
                    }
                }
            } catch (IOException closing) {
                throw writeFailed(ref, target, closing); // closing the file flushes it
            }
        } catch (IOException closingBody) {
            // the bytes are in; a body that fails to close changes nothing
        }
        if (ref.sizeBytes() >= 0 && n < ref.sizeBytes()) {
            throw new ArtifactCacheException(Fault.TRANSFER, "download of artifact " + ref.digest() + " from "
                    + ref.downloadUrl() + " ended after " + n + " of its " + ref.sizeBytes()
                    + " bytes (the connection closed early); nothing was cached");
        }
        return new Fetched(n, HexFormat.of().formatHex(sha.digest()), false);
    }

    /** Why a complete download is not the artifact, or null when it is. */
    private static String problem(ArtifactRef ref, Fetched f) {
        if (f.overlong()) {
            return "artifact " + ref.digest() + " from " + ref.downloadUrl() + " is longer than the announced "
                    + ref.sizeBytes() + " bytes; download discarded, nothing was cached";
        }
        if (!f.sha256Hex().equals(ref.sha256Hex())) {
            return "artifact digest mismatch for " + ref.downloadUrl() + ": expected sha256:" + ref.sha256Hex()
                    + " but the " + f.bytes() + " downloaded bytes hash to sha256:" + f.sha256Hex()
                    + "; nothing was cached";
        }
        if (ref.sizeBytes() >= 0 && f.bytes() != ref.sizeBytes()) {
            throw new IllegalStateException("artifact " + ref.digest() + " matched its digest but has " + f.bytes()
                    + " bytes, not the announced " + ref.sizeBytes() + ": the registry's size is wrong");
        }
        return null;
    }

    private static ArtifactCacheException transferFailed(ArtifactRef ref, IOException e) {
        return new ArtifactCacheException(Fault.TRANSFER, "download of artifact " + ref.digest() + " from "
                + ref.downloadUrl() + " failed: " + IoProblems.describe(e) + "; nothing was cached", e);
    }

    private static ArtifactCacheException writeFailed(ArtifactRef ref, Path target, IOException e) {
        return new ArtifactCacheException(Fault.HOST, "cannot write artifact " + ref.digest() + " to " + target + ": "
                + IoProblems.describe(e), e);
    }

    private static Path packageRoot(ArtifactRef ref, Path unzipped) throws IOException {
        if (Files.isRegularFile(unzipped.resolve(MANIFEST))) {
            return unzipped;
        }
        List<Path> top;
        try (Stream<Path> s = Files.list(unzipped)) {
            top = s.sorted().toList();
        }
        if (top.size() == 1 && Files.isDirectory(top.get(0))
                && top.get(0).getFileName().toString().endsWith(".mlpackage")
                && Files.isRegularFile(top.get(0).resolve(MANIFEST))) {
            return top.get(0);
        }
        throw new ArtifactCacheException(Fault.ARTIFACT, "artifact " + ref.digest() + " is not an .mlpackage archive: expected "
                + MANIFEST + " at the top or inside a single <name>.mlpackage directory, found "
                + top.stream().map(p -> p.getFileName().toString()).toList());
    }

    /** Deletes least recently used entries (never {@code keepHex}) until the total is at most {@code cap}. */
    synchronized void evictOver(long cap, String keepHex) {
        for (LeastRecentlyUsed.Entry victim : LeastRecentlyUsed.toEvict(evictionView(keepHex), cap)) {
            evict(victim.path());
        }
    }

    /** The entries as eviction sees them; {@code keepHex} (the entry being returned) counts as in use. */
    private List<LeastRecentlyUsed.Entry> evictionView(String keepHex) {
        return listEntries().stream().map(e -> new LeastRecentlyUsed.Entry(e, LeastRecentlyUsed.sizeOnDisk(e), lastUsed(e),
                e.getFileName().toString().equals(keepHex))).toList();
    }

    /** Removes one entry. */
    private void evict(Path entry) {
        // Rename first so a reader never sees a half-deleted package.
        Path doomed = tmp.resolve("evict-" + entry.getFileName());
        try {
            Files.move(entry, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new ArtifactCacheException(Fault.HOST, "cannot evict " + entry + ": " + IoProblems.describe(e), e);
        }
        deleteTree(doomed);
    }

    private List<Path> listEntries() {
        List<Path> list = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(entries)) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    list.add(p);
                }
            }
        } catch (IOException e) {
            throw new ArtifactCacheException(Fault.HOST, "cannot list " + entries + ": " + IoProblems.describe(e), e);
        }
        return list;
    }

    private void touch(Path entry) {
        try {
            Files.setLastModifiedTime(entry.resolve(LAST_USED), FileTime.from(clock.instant()));
        } catch (IOException e) {
            throw new ArtifactCacheException(Fault.HOST, "cannot mark " + entry + " as used: " + IoProblems.describe(e), e);
        }
    }

    private static FileTime lastUsed(Path entry) {
        try {
            return Files.getLastModifiedTime(entry.resolve(LAST_USED));
        } catch (IOException e) {
            return FileTime.fromMillis(0); // no marker: oldest, evicted first
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
