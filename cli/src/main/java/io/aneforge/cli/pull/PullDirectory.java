package io.aneforge.cli.pull;

import io.aneforge.cli.CommandFailure;
import io.aneforge.io.IoProblems;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * What {@code pull} unpacked into an {@code --out} directory: one small record per package name, in
 * {@code <out>/.aneforge-pull/<name>.json}, naming the model, version and digest the package came from. A package is
 * named by its build id ({@code ios18-ane-int8-block32-s128.mlpackage}), which names neither the model nor the
 * version, so without the record a later pull of another model's (or version's) package of the same build could not
 * tell that it would replace something else.
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
     */
    public record Origin(String model, int version, String digest) {

        /** {@code minilm v3 (sha256:0123456789ab…)}, for messages. */
        public String describe() {
            String short12 = digest.startsWith("sha256:") && digest.length() > 19 ? digest.substring(0, 19) + "…" : digest;
            return model + " v" + version + " (" + short12 + ")";
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
