package io.aneforge.cli;

import io.aneforge.cli.registry.RegistryClient;
import io.aneforge.io.IoProblems;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code aneforge pull}: resolve, download, verify the sha256 against the registry's digest, and
 * unpack the {@code .mlpackage}. Nothing is left behind when the bytes do not match.
 */
@Command(name = "pull", sortOptions = false,
        description = "Download the variant a device gets, verify its sha256 and unpack the .mlpackage.")
public final class PullCommand implements Callable<Integer> {

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    // Not mixinStandardHelpOptions: its -V/--version would collide with this command's --version N.
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Mixin
    ResolveOptions select;

    @Option(names = "--out", required = true, paramLabel = "<dir>", description = "Directory to unpack into.")
    Path out;

    @Option(names = "--keep-archive", description = "Also keep the verified .mlpackage.zip.")
    boolean keepArchive;

    /** A {@code .pull-*} leftover in --out older than this is from a pull that was killed, not one still running. */
    static final Duration STALE = Duration.ofHours(1);

    @Override
    public Integer call() {
        String path = select.path();
        RegistryClient registry = RegistryClient.fromEnvironment(root.env);
        JsonNode r = registry.get(path);
        Path partial;
        try {
            Files.createDirectories(out);
            removeStaleLeftovers(out, Instant.now().minus(STALE));
            partial = Files.createTempFile(out, ".pull-", ".zip.partial");
        } catch (IOException e) {
            throw new UsageException("cannot write into --out " + out + ": " + IoProblems.describe(e, out)
                    + ": pass a directory you can write to");
        }
        try {
            return pull(registry, r, partial);
        } catch (IOException e) {
            throw new CommandFailure("pull into " + out + " failed: " + IoProblems.describe(e) + ": fix that and run pull again", e);
        } finally {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                // best effort: the next pull into --out removes it once it is stale
            }
        }
    }

    /**
     * Removes {@code .pull-*} temporary files and unpack directories that a killed pull left in {@code dir}:
     * those last modified before {@code before} (a running pull writes its file at least every idle timeout).
     */
    static void removeStaleLeftovers(Path dir, Instant before) throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.filter(f -> f.getFileName().toString().startsWith(".pull-")).toList()) {
                if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(before)) {
                    ConvertCommand.delete(p);
                }
            }
        }
    }

    private int pull(RegistryClient registry, JsonNode r, Path partial) throws IOException {
        String digest = r.path("digest").asString("");
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new CommandFailure("the registry's answer has no sha256 digest (got '" + digest + "'): cannot verify a download");
        }
        String expected = digest.substring("sha256:".length());
        String actual = registry.download(r.path("url").asString(), partial);
        if (!actual.equals(expected)) {
            throw new CommandFailure("downloaded bytes have sha256 " + actual + " but the registry promised " + expected
                    + "; nothing was kept (retry; if it repeats, the blob store is corrupt)");
        }
        long size = Files.size(partial);
        if (r.has("size") && r.path("size").asLong() != size) {
            throw new CommandFailure("downloaded " + size + " bytes but the registry promised " + r.path("size").asLong());
        }
        Path unpackDir = Files.createTempDirectory(out, ".pull-");
        try {
            List<Path> files = PackageArchive.unzip(partial, unpackDir, PackageArchive.Limits.defaults());
            Path pkgRoot = packageRoot(unpackDir, files);
            MlPackage.read(pkgRoot); // a pulled package must load
            String pkgName = pkgRoot.equals(unpackDir)
                    // content at the root (not an aneforge archive): the digest keeps two variants of a version apart
                    ? r.path("model").asString("model") + "-v" + r.path("version").asInt() + "-" + expected.substring(0, 12)
                        + ".mlpackage"
                    : pkgRoot.getFileName().toString();
            Path target = out.resolve(pkgName);
            if (Files.exists(target)) {
                ConvertCommand.delete(target);
            }
            Files.move(pkgRoot, target);
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.println("pulled " + ResolveCommand.describe(r));
            stdout.println("verified sha256 " + actual + ", unpacked " + target);
            if (keepArchive) {
                Path zip = out.resolve(pkgName + ".zip");
                Files.move(partial, zip, StandardCopyOption.REPLACE_EXISTING);
                stdout.println("kept " + zip);
            }
        } finally {
            if (Files.exists(unpackDir)) {
                ConvertCommand.delete(unpackDir);
            }
        }
        return AneForge.OK;
    }

    /** The archive holds one top-level {@code <name>.mlpackage/} directory or the package content at its root. */
    private static Path packageRoot(Path unpackDir, List<Path> files) {
        if (Files.isRegularFile(unpackDir.resolve(MlPackage.MANIFEST))) {
            return unpackDir; // content at the root: the package is the directory itself
        }
        try (var s = Files.list(unpackDir)) {
            List<Path> top = s.toList();
            if (top.size() == 1 && Files.isDirectory(top.get(0)) && Files.isRegularFile(top.get(0).resolve(MlPackage.MANIFEST))) {
                return top.get(0);
            }
        } catch (IOException e) {
            throw new CommandFailure("cannot list " + unpackDir + ": " + io.aneforge.io.IoProblems.describe(e, unpackDir), e);
        }
        throw new CommandFailure("the pulled archive holds no .mlpackage (no Manifest.json at its root or in one top-level "
                + "directory; " + files.size() + " files)");
    }
}
