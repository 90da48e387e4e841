package io.aneforge.agent.coreml;

import io.aneforge.io.BoundedFiles;
import io.aneforge.io.IoProblems;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The half of a compiled-model cache's claim that stays on this machine: a random token in a file on the local disk,
 * which the claim records ({@code witness <token>}) each time an agent with a machine identity writes it. Machines
 * can share every part of a {@link io.aneforge.agent.host.MachineIdentity} (VMs resumed from one saved memory state
 * have one machine id, one boot id and one pid namespace) but not a file written after they parted, so an agent under
 * a name the claim does not list is taken for the claim's machine only when it finds the claim's token here.
 *
 * <p>The file is {@code <local dir>/aneforge-cache-witness-<hash>}, the hash over the user and the cache directory's
 * real path: every spelling of one directory (a symbolic link, /tmp and /private/tmp) finds one witness, each cache
 * has its own, and agents of different users, which could not replace each other's file in a shared temporary
 * directory, keep theirs apart (so they share a directory under listed names only). The local directory is
 * {@code java.io.tmpdir} ({@link #LOCAL_DIR}; another in tests, to play another machine's disk). A temporary directory
 * may be emptied (at boot, or of files unused for days): a witness that is gone is written again by the next agent
 * under a listed name ({@link CacheClaim}), and until then a new name is refused, never wrongly accepted.
 */
final class CacheWitness {

    /** This machine's temporary directory, where agents on it that share a cache directory find its witness. */
    static final Path LOCAL_DIR = Path.of(System.getProperty("java.io.tmpdir"));
    static final String PREFIX = "aneforge-cache-witness-";
    /** Far more than a token takes: a larger file is not a witness. */
    private static final int MAX_BYTES = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;

    private CacheWitness(Path file) {
        this.file = file;
    }

    /** The witness of the cache directory {@code cacheDir} (which must exist) in {@code localDir}. */
    static CacheWitness of(Path localDir, Path cacheDir) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK must provide SHA-256", e);
        }
        byte[] hash = sha.digest((System.getProperty("user.name", "") + "\0" + cacheDir.toRealPath())
                .getBytes(StandardCharsets.UTF_8));
        return new CacheWitness(localDir.resolve(PREFIX + HexFormat.of().formatHex(hash, 0, 16)));
    }

    Path file() {
        return file;
    }

    /** A new token: 128 random bits, as 32 lowercase hexadecimal digits. */
    static String newToken() {
        byte[] bits = new byte[16];
        RANDOM.nextBytes(bits);
        return HexFormat.of().formatHex(bits);
    }

    /** The token this machine holds, or empty when the file does not exist. */
    Optional<String> read() throws IOException {
        try {
            return Optional.of(BoundedFiles.readString(file, MAX_BYTES).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Whether this machine holds {@code token}; else why not, as a clause after the file's name. */
    Optional<String> mismatch(String token) {
        try {
            Optional<String> held = read();
            if (held.isEmpty()) {
                return Optional.of("does not exist");
            }
            return held.get().equals(token) ? Optional.empty() : Optional.of("holds another token");
        } catch (IOException e) {
            return Optional.of("cannot be read (" + IoProblems.describe(e, file) + ")");
        }
    }

    /** Whether the file is gone (a temporary directory emptied, an agent stopped between its two writes). */
    boolean missing() {
        try {
            return read().isEmpty();
        } catch (IOException e) {
            return false; // there, but unreadable: writing it again would fail the same way
        }
    }

    /** Deletes the witness: before a claim with a new token is written, so a crash leaves it missing, not stale. */
    void clear() throws IOException {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw trouble("delete", e);
        }
    }

    /** Writes {@code token}, after the claim that records it. */
    void write(String token) throws IOException {
        try {
            Files.createDirectories(file.getParent());
            CacheClaim.replace(file, token + "\n");
        } catch (IOException e) {
            throw trouble("write", e);
        }
    }

    private IOException trouble(String verb, IOException e) {
        return new IOException("cannot " + verb + " " + file + ", the witness on this machine's disk of the"
                + " compiled-model cache's claim: " + IoProblems.describe(e, file) + ". It lives in " + file.getParent()
                + " (java.io.tmpdir), which must be a writable local directory: fix its permissions, or start the"
                + " agent with -Djava.io.tmpdir=<a writable local directory>, the same for all agents that share the"
                + " cache directory", e);
    }
}
