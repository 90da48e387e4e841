package io.aneforge.cli.pull;

import io.aneforge.cli.CommandFailure;
import io.aneforge.io.IoProblems;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * What {@code pull} unpacked into a directory ({@code --out}, or its {@code <model>/} directory in the model layout):
 * one small record per package name, in {@code <dir>/.aneforge-pull/<name>.json}, naming the model, version and
 * digest the package came from and the fingerprint of the files it unpacked. A package is named by its build id
 * ({@code ios18-ane-int8-block32-s128.mlpackage}), which names neither the model nor the version, so without the
 * record a later pull could not tell whether it replaces an earlier version of the same model (what an alias moving
 * means) or another model's package, nor whether the files changed since they were pulled.
 *
 * <p>The records live beside the packages, not inside them: a pulled package keeps the bytes the registry's digest
 * covers.
 */
public final class PullDirectory {

    /** The records' directory in {@code --out}; hidden, so an app's listing of the packages skips it. */
    public static final String RECORDS = ".aneforge-pull";

    /**
     * Where a package came from.
     *
     * @param model   the registry's model name
     * @param version the model version
     * @param digest  {@code sha256:<hex>} of the archive the package was unpacked from
     * @param files   {@link #fingerprint} of the package's files as that pull unpacked them, so a later pull can tell
     *                whether they changed since; null in a record an aneforge before this field wrote
     */
    public record Origin(String model, int version, String digest, String files) {

        /** {@code minilm v3 (sha256:0123456789ab…)}, for messages. */
        public String describe() {
            return model + " " + describeVersion();
        }

        /** {@code v3 (sha256:0123456789ab…)}, for messages that named the model already. */
        public String describeVersion() {
            String short12 = digest.startsWith("sha256:") && digest.length() > 19 ? digest.substring(0, 19) + "…" : digest;
            return "v" + version + " (" + short12 + ")";
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A record being written: {@code .record-*.tmp} in {@link #RECORDS} until it is renamed into place. */
    private static final String TEMPORARY_PREFIX = ".record-";

    private final Path dir;

    public PullDirectory(Path dir) {
        this.dir = dir;
    }

    private Path recordOf(String packageName) {
        return dir.resolve(RECORDS).resolve(packageName + ".json");
    }

    /** Where the package {@code packageName} came from, when a pull recorded it (empty for one from before records). */
    public Optional<Origin> origin(String packageName) {
        Path file = recordOf(packageName);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            Origin o = JSON.readValue(Files.readString(file, StandardCharsets.UTF_8), Origin.class);
            return o.model() == null || o.digest() == null ? Optional.empty() : Optional.of(o);
        } catch (IOException | JacksonException e) {
            return Optional.empty(); // a damaged record tells nothing: the package is treated as unrecorded
        }
    }

    /** Drops the record of {@code packageName} before its package is replaced, so a crash never leaves a wrong one. */
    public void forget(String packageName) {
        try {
            Files.deleteIfExists(recordOf(packageName));
        } catch (IOException e) {
            throw new CommandFailure("cannot remove " + recordOf(packageName) + ": " + IoProblems.describe(e)
                    + ": remove it by hand, then pull again", e);
        }
    }

    /** Records where {@code packageName} came from (written whole, then renamed into place). */
    public void record(String packageName, Origin origin) throws IOException {
        Path file = recordOf(packageName);
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), TEMPORARY_PREFIX, ".tmp");
        try {
            Files.writeString(tmp, JSON.writeValueAsString(origin) + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Removes the temporary files of records that a killed pull left (between writing one and renaming it into
     * place), those last modified before {@code before}; a pull writes and renames its record within milliseconds.
     */
    public void removeStaleTemporaries(java.time.Instant before) throws IOException {
        Path records = dir.resolve(RECORDS);
        if (!Files.isDirectory(records, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.list(records)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(TEMPORARY_PREFIX) && n.endsWith(".tmp") && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                        && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(before)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * The packages a pull recorded in this directory, by package name (damaged records left out): what an earlier
     * pull put there, for the notes on what else an app bundling the directory ships.
     */
    public Map<String, Origin> origins() throws IOException {
        Map<String, Origin> all = new TreeMap<>();
        Path records = dir.resolve(RECORDS);
        if (!Files.isDirectory(records, LinkOption.NOFOLLOW_LINKS)) {
            return all;
        }
        try (Stream<Path> s = Files.list(records)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".mlpackage.json") && !n.startsWith(".")) {
                    String pkg = n.substring(0, n.length() - ".json".length());
                    origin(pkg).ifPresent(o -> all.put(pkg, o));
                }
            }
        }
        return all;
    }

    /**
     * {@code sha256:<hex>} over a package directory's tree: every entry's relative path (sorted, {@code /}-separated),
     * its kind and, for a file, its size and bytes. Two directories have the same fingerprint exactly when
     * {@link #sameContent} holds (barring a sha256 collision); one pass over the bytes, so a record can keep it.
     */
    public static String fingerprint(Path root) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        byte[] buffer = new byte[1 << 16];
        for (Map.Entry<String, Path> e : files(root).entrySet()) {
            Path p = e.getValue();
            String path = e.getKey().replace(File.separatorChar, '/');
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                sha.update(("f " + Files.size(p) + " " + path + "\n").getBytes(StandardCharsets.UTF_8));
                try (var in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        sha.update(buffer, 0, n);
                    }
                }
            } else {
                String kind = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "d " : "o ";
                sha.update((kind + path + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /**
     * Whether two package directories hold the same files with the same bytes: replacing one with the other loses
     * nothing, whatever pulled it.
     */
    public static boolean sameContent(Path a, Path b) throws IOException {
        Map<String, Path> left = files(a);
        Map<String, Path> right = files(b);
        if (!left.keySet().equals(right.keySet())) {
            return false;
        }
        for (Map.Entry<String, Path> e : left.entrySet()) {
            Path other = right.get(e.getKey());
            boolean leftFile = Files.isRegularFile(e.getValue(), LinkOption.NOFOLLOW_LINKS);
            if (leftFile != Files.isRegularFile(other, LinkOption.NOFOLLOW_LINKS)
                    || leftFile && Files.mismatch(e.getValue(), other) != -1) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, Path> files(Path root) throws IOException {
        Map<String, Path> all = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(p -> !p.equals(root)).forEach(p -> all.put(root.relativize(p).toString(), p));
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        } catch (NoSuchFileException e) {
            return Map.of();
        }
        return all;
    }
}
