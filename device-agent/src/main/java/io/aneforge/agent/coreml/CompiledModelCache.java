package io.aneforge.agent.coreml;

import io.aneforge.agent.cache.EntryMove;
import io.aneforge.runtime.RuntimeLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Compiled models ({@code .mlmodelc}) cached per package content and OS build:
 * {@code <dir>/<osBuild>/<packageDigest>.mlmodelc}. The Core ML compiler ships with the OS,
 * so a new build (23F79 → 23G80) compiles again, while repeated benchmarks of the same package
 * on the same build skip the compile. The package digest is a SHA-256 over the package tree
 * (each regular file's relative path, a NUL, its length and its bytes, in path order), so
 * the key does not depend on where the package was unpacked.
 */
final class CompiledModelCache {

    private static final Pattern OS_BUILD = Pattern.compile("[0-9A-Za-z.]{1,32}");

    private final Path dir;
    private final String osBuild;

    CompiledModelCache(Path dir, String osBuild) {
        if (!OS_BUILD.matcher(osBuild).matches()) {
            throw new IllegalArgumentException("OS build '" + osBuild
                    + "' is not a build identifier like 23F79 (letters, digits, dots)");
        }
        this.dir = dir.toAbsolutePath().normalize();
        this.osBuild = osBuild;
    }

    /** Where the compiled form of {@code mlpackage} lives for this OS build. */
    Path keyFor(Path mlpackage) {
        return dir.resolve(osBuild).resolve(packageDigest(mlpackage) + ".mlmodelc");
    }

    /** The cached compiled model, compiling (and moving into place) on a miss. */
    Path compiled(Path mlpackage, Function<Path, Path> compiler) {
        Path target = keyFor(mlpackage);
        if (complete(target)) {
            return target;
        }
        Path produced = compiler.apply(mlpackage);
        try {
            Files.createDirectories(target.getParent());
            Path staging = Files.createTempDirectory(target.getParent(), ".compiling-");
            Path staged = staging.resolve("m.mlmodelc");
            // Core ML compiles into its own temp dir, often on another volume: copy, then rename.
            copyTree(produced, staged);
            try {
                EntryMove.intoPlace(staged, target, staging.resolve("broken"), CompiledModelCache::complete);
            } finally {
                deleteTree(staging);
            }
            deleteTree(produced);
            return target;
        } catch (IOException e) {
            throw new RuntimeLoadException("cannot cache the compiled model of " + mlpackage + " in " + dir + ": "
                    + e.getMessage() + " (check aneforge.agent.cache.dir)", e);
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
