package io.aneforge.agent.cache;

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
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

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
 * <p>Download: bytes stream through SHA-256 into a temp file; a digest (or announced size)
 * mismatch deletes the temp file and throws, leaving nothing in the cache. Unpack: a safe
 * unzip (ane-core's {@link PackageArchive#unzip}: names, links, duplicates, entry and size caps) and a package root check (Manifest.json at the top of the
 * archive or inside a single {@code *.mlpackage} directory).
 *
 * <p>Eviction runs after each insert until the total is at most {@code maxBytes}; it never
 * evicts the entry just returned. One instance per cache directory; methods are
 * synchronized (the agent runs one job at a time, so downloads need not overlap).
 */
public final class ArtifactCache {

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
            throw new ArtifactCacheException("cannot prepare artifact cache at " + this.root + ": " + e.getMessage()
                    + " (check aneforge.agent.cache.dir)", e);
        }
    }

    /** The artifact, from the cache or downloaded, verified and unpacked; marks it used. */
    public synchronized CachedArtifact get(ArtifactRef ref) {
        Optional<CachedArtifact> hit = lookup(ref.sha256Hex());
        if (hit.isPresent()) {
            touch(entries.resolve(ref.sha256Hex()));
            return hit.get();
        }
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
        return Optional.of(new CachedArtifact(sha256Hex, pkg, treeSize(entry)));
    }

    /** Bytes currently held under {@code sha256/}. */
    public synchronized long sizeBytes() {
        return listEntries().stream().mapToLong(ArtifactCache::treeSize).sum();
    }

    private CachedArtifact download(ArtifactRef ref) {
        Path work;
        try {
            work = Files.createTempDirectory(tmp, ref.sha256Hex().substring(0, 12) + "-");
        } catch (IOException e) {
            throw new ArtifactCacheException("cannot create a work directory in " + tmp + ": " + e.getMessage(), e);
        }
        try {
            Path zip = work.resolve("artifact.zip");
            fetchVerified(ref, zip);
            Path unzipped = work.resolve("unzipped");
            Files.createDirectories(unzipped);
            try {
                PackageArchive.unzip(zip, unzipped, limits.toArchiveLimits());
            } catch (MlPackageException e) {
                throw new ArtifactCacheException("artifact " + ref.digest() + ": " + e.getMessage(), e);
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
            throw new ArtifactCacheException("cannot store artifact " + ref.digest() + " in " + root + ": "
                    + e.getMessage(), e);
        } finally {
            deleteTree(work);
        }
    }

    private void fetchVerified(ArtifactRef ref, Path target) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
        long n = 0;
        try (InputStream in = new DigestInputStream(source.open(ref), sha);
                OutputStream out = Files.newOutputStream(target)) {
            byte[] buf = new byte[64 * 1024];
            int r;
            while ((r = in.read(buf)) > 0) {
                n += r;
                if (ref.sizeBytes() >= 0 && n > ref.sizeBytes()) {
                    throw new ArtifactCacheException("artifact " + ref.digest() + " from " + ref.downloadUrl()
                            + " is longer than the announced " + ref.sizeBytes() + " bytes; download discarded");
                }
                out.write(buf, 0, r);
            }
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(ref.sha256Hex())) {
            throw new ArtifactCacheException("artifact digest mismatch for " + ref.downloadUrl() + ": expected sha256:"
                    + ref.sha256Hex() + " but the " + n + " downloaded bytes hash to sha256:" + actual
                    + "; nothing was cached. The blob in the registry or the transfer is corrupt: retry, and report"
                    + " the blob if it repeats");
        }
        if (ref.sizeBytes() >= 0 && n != ref.sizeBytes()) {
            throw new IllegalStateException("artifact " + ref.digest() + " matched its digest but has " + n
                    + " bytes, not the announced " + ref.sizeBytes() + ": the registry's size is wrong");
        }
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
        throw new ArtifactCacheException("artifact " + ref.digest() + " is not an .mlpackage archive: expected "
                + MANIFEST + " at the top or inside a single <name>.mlpackage directory, found "
                + top.stream().map(p -> p.getFileName().toString()).toList());
    }

    /** Deletes least recently used entries (never {@code keepHex}) until the total is at most {@code cap}. */
    synchronized void evictOver(long cap, String keepHex) {
        List<Path> all = listEntries();
        long total = all.stream().mapToLong(ArtifactCache::treeSize).sum();
        List<Path> byAge = new ArrayList<>(all);
        byAge.sort(Comparator.comparing(ArtifactCache::lastUsed));
        for (Path entry : byAge) {
            if (total <= cap) {
                return;
            }
            if (entry.getFileName().toString().equals(keepHex)) {
                continue;
            }
            long size = treeSize(entry);
            // Rename first so a reader never sees a half-deleted package.
            Path doomed = tmp.resolve("evict-" + entry.getFileName());
            try {
                Files.move(entry, doomed, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new ArtifactCacheException("cannot evict " + entry + ": " + e.getMessage(), e);
            }
            deleteTree(doomed);
            total -= size;
        }
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
            throw new UncheckedIOException("cannot list " + entries, e);
        }
        return list;
    }

    private void touch(Path entry) {
        try {
            Files.setLastModifiedTime(entry.resolve(LAST_USED), FileTime.from(clock.instant()));
        } catch (IOException e) {
            throw new ArtifactCacheException("cannot mark " + entry + " as used: " + e.getMessage(), e);
        }
    }

    private static FileTime lastUsed(Path entry) {
        try {
            return Files.getLastModifiedTime(entry.resolve(LAST_USED));
        } catch (IOException e) {
            return FileTime.fromMillis(0); // no marker: oldest, evicted first
        }
    }

    private static long treeSize(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot measure " + dir, e);
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
