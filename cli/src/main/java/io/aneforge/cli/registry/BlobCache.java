package io.aneforge.cli.registry;

import io.aneforge.io.IoProblems;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * Archives {@code pull} downloaded, kept by their sha256 ({@code <dir>/blobs/sha256/<hex>}), so pulling the
 * same variant again (every app build does) reads the disk instead of the network. Content-addressed like
 * the Hugging Face Hub client's cache: an entry never changes, and one whose bytes no longer hash to its
 * name (a disk error, a hand edit) is deleted and downloaded again, never served.
 *
 * <p>The cache is a convenience: when it cannot be written (read-only home, full disk) {@link #store} says
 * why and the pull goes on without it.
 */
public final class BlobCache {
    /** Overrides the cache directory (default {@code $XDG_CACHE_HOME/aneforge}, else {@code ~/.cache/aneforge}). */
    public static final String DIR_ENV = "ANEFORGE_CACHE_DIR";

    private final Path dir;

    public BlobCache(Path dir) {
        this.dir = dir;
    }

    /** The cache directory {@code env} names, or the default under the user's home. */
    public static Path defaultDir(Map<String, String> env) {
        String explicit = env.get(DIR_ENV);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "aneforge");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "aneforge");
    }

    public Path dir() {
        return dir;
    }

    /** Where an archive with this sha256 (64 lowercase hex digits) lives. */
    Path entry(String sha256) {
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a sha256 hex digest: '" + sha256 + "'");
        }
        return dir.resolve("blobs").resolve("sha256").resolve(sha256);
    }

    /**
     * The cached archive with this digest and size, re-hashed before it is trusted; empty when there is none or
     * it no longer matches (then it is removed, best effort, so the next download replaces it).
     */
    public Optional<Path> find(String sha256, long size) {
        Path p = entry(sha256);
        try {
            if (!Files.isRegularFile(p) || (size >= 0 && Files.size(p) != size)) {
                return Optional.empty();
            }
            if (sha256Of(p).equals(sha256)) {
                return Optional.of(p);
            }
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // an unreadable entry is a miss: the download goes on and store() replaces it
        }
        return Optional.empty();
    }

    /**
     * Copies a verified archive into the cache under its digest: into a temporary file beside the entry,
     * then moved into place, so a reader never sees half an entry. Returns empty when stored, else why not.
     */
    public Optional<String> store(Path verified, String sha256) {
        Path p = entry(sha256);
        Path tmp = null;
        try {
            Files.createDirectories(p.getParent());
            tmp = Files.createTempFile(p.getParent(), ".store-", ".partial");
            Files.copy(verified, tmp, StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(IoProblems.describe(e, p.getParent()));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // best effort: a leftover .store-*.partial is never served (find reads only digest names)
                }
            }
        }
    }

    /** The sha256 of a file's bytes, as lowercase hex. */
    public static String sha256Of(Path file) throws IOException {
        MessageDigest sha = RegistryClient.sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
