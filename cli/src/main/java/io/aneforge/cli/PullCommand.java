package io.aneforge.cli;

import io.aneforge.cli.pull.PullDirectory;
import io.aneforge.cli.registry.BlobCache;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code aneforge pull}: resolve, download (or find in the {@link BlobCache}), verify the sha256 against
 * the registry's digest, and unpack the {@code .mlpackage}. Nothing is left behind when the bytes do not match.
 */
@Command(name = "pull", sortOptions = false,
        description = "Download the variant a device gets (or take it from the local cache), verify its sha256 and unpack "
                + "the .mlpackage.")
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

    @Option(names = "--name", paramLabel = "<name>.mlpackage",
            description = "Unpack under this directory name in --out, replacing a package of that name pulled from the "
                    + "same model: a stable name for an app build's resources, whichever variant or version the registry "
                    + "serves (default: the package's own name, its build id).")
    String name;

    @Option(names = "--replace", description = "Replace a package of the same name in --out that holds another model's "
            + "or version's package (default: refuse, naming both; the same package again is always replaced).")
    boolean replace;

    @Option(names = "--cache-dir", paramLabel = "<dir>",
            description = "Where verified archives are kept by sha256, so pulling the same variant again does not download "
                    + "it (default: $ANEFORGE_CACHE_DIR, else $XDG_CACHE_HOME/aneforge, else ~/.cache/aneforge).")
    Path cacheDir;

    @Option(names = "--no-cache", description = "Neither read nor fill the cache: always download.")
    boolean noCache;

    @Option(names = "--json", description = "Print one JSON object (model, version, alias, variant, digest, size, path, "
            + "archive, fromCache, replaced, otherPackages) instead of text, for build logs.")
    boolean json;

    /** A {@code .pull-*} leftover in --out older than this is from a pull that was killed, not one still running. */
    static final Duration STALE = Duration.ofHours(1);

    @Override
    public Integer call() {
        if (name != null && (!name.endsWith(".mlpackage") || name.equals(".mlpackage") || name.contains("/")
                || name.contains("\\") || name.startsWith("."))) {
            throw new UsageException("--name must be a directory name ending in .mlpackage, without / or a leading dot "
                    + "(got '" + name + "'), e.g. --name Encoder.mlpackage");
        }
        if (noCache && cacheDir != null) {
            throw new UsageException("--no-cache and --cache-dir contradict each other: pass one of them");
        }
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
     * Removes {@code .pull-*} temporary files and unpack directories that a killed pull left in {@code dir}, and its
     * half-written records: those last modified before {@code before} (a running pull writes its file at least every
     * idle timeout).
     */
    static void removeStaleLeftovers(Path dir, Instant before) throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.filter(f -> f.getFileName().toString().startsWith(".pull-")).toList()) {
                if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(before)) {
                    ConvertCommand.delete(p);
                }
            }
        }
        new PullDirectory(dir).removeStaleTemporaries(before);
    }

    private int pull(RegistryClient registry, JsonNode r, Path partial) throws IOException {
        String digest = r.path("digest").asString("");
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new CommandFailure("the registry's answer has no sha256 digest (got '" + digest + "'): cannot verify a download");
        }
        String expected = digest.substring("sha256:".length());
        long promised = r.has("size") ? r.path("size").asLong() : -1;
        PrintWriter stderr = spec.commandLine().getErr();
        BlobCache cache = noCache ? null : new BlobCache(cacheDir != null ? cacheDir : BlobCache.defaultDir(root.env));
        Path cached = cache == null ? null : cache.find(expected, promised).orElse(null);
        Path archive;
        if (cached != null) {
            archive = cached; // find() re-hashed it: these are the promised bytes
        } else {
            String actual = registry.download(r.path("url").asString(), partial);
            if (!actual.equals(expected)) {
                throw new CommandFailure("downloaded bytes have sha256 " + actual + " but the registry promised " + expected
                        + "; nothing was kept (retry; if it repeats, the blob store is corrupt)");
            }
            long size = Files.size(partial);
            if (promised >= 0 && promised != size) {
                throw new CommandFailure("downloaded " + size + " bytes but the registry promised " + promised);
            }
            if (cache != null) {
                cache.store(partial, expected).ifPresent(why -> stderr.println("aneforge pull: note: not caching the "
                        + "archive in " + cache.dir() + " (" + why + "); pass --cache-dir <dir> or --no-cache"));
            }
            archive = partial;
        }
        Path unpackDir = Files.createTempDirectory(out, ".pull-");
        try {
            List<Path> files = PackageArchive.unzip(archive, unpackDir, PackageArchive.Limits.defaults());
            Path pkgRoot = packageRoot(unpackDir, files);
            MlPackage.read(pkgRoot); // a pulled package must load
            String pkgName = name != null ? name
                    : pkgRoot.equals(unpackDir)
                    // content at the root (not an aneforge archive): the digest keeps two variants of a version apart
                    ? r.path("model").asString("model") + "-v" + r.path("version").asInt() + "-" + expected.substring(0, 12)
                        + ".mlpackage"
                    : pkgRoot.getFileName().toString();
            Path target = out.resolve(pkgName);
            PullDirectory records = new PullDirectory(out);
            PullDirectory.Origin incoming = new PullDirectory.Origin(r.path("model").asString(""),
                    r.path("version").asInt(), digest);
            Replaced replaced = null;
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                replaced = mayReplace(records, pkgName, target, pkgRoot, incoming);
                records.forget(pkgName);
                ConvertCommand.delete(target);
            }
            Files.move(pkgRoot, target);
            records.record(pkgName, incoming);
            Path zip = null;
            if (keepArchive) {
                zip = out.resolve(pkgName + ".zip");
                Files.copy(archive, zip, StandardCopyOption.REPLACE_EXISTING);
            }
            List<String> others = otherPackages(out, pkgName);
            PrintWriter stdout = spec.commandLine().getOut();
            if (json) {
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("model", r.path("model").asString(""));
                summary.put("version", r.path("version").asInt());
                summary.put("alias", r.path("alias").isString() ? r.path("alias").asString() : null);
                summary.put("variant", r.path("variant"));
                summary.put("digest", digest);
                summary.put("size", Files.size(archive));
                summary.put("path", target.toString());
                summary.put("archive", zip == null ? null : zip.toString());
                summary.put("fromCache", cached != null);
                summary.put("replaced", replaced == null ? null : replaced.json());
                summary.put("otherPackages", others);
                stdout.println(io.aneforge.cli.manifest.VariantsManifest.json(summary));
            } else {
                stdout.println("pulled " + ResolveCommand.describe(r));
                stdout.println((cached != null ? "found sha256 " + expected + " in the cache " + cache.dir()
                        : "verified sha256 " + expected) + ", unpacked " + target);
                if (zip != null) {
                    stdout.println("kept " + zip);
                }
                if (replaced != null) {
                    stdout.println("replaced " + target + ", which held " + replaced.describe());
                }
            }
            if (!others.isEmpty()) {
                stderr.println("aneforge pull: note: " + out + " also holds " + String.join(", ", others) + " (earlier pulls?): "
                        + "an app that bundles " + out + " ships them too; pass --name <name>.mlpackage to pull into one "
                        + "stable name, or remove them");
            }
        } finally {
            if (Files.exists(unpackDir)) {
                ConvertCommand.delete(unpackDir);
            }
        }
        return AneForge.OK;
    }

    /**
     * What a pull replaced: where the package came from, empty when no pull recorded it; {@code changed} when its
     * files were no longer the ones that pull unpacked.
     */
    private record Replaced(java.util.Optional<PullDirectory.Origin> origin, boolean changed) {
        String describe() {
            return origin.map(PullDirectory.Origin::describe).orElse("a package no pull recorded")
                    + (changed ? ", changed since that pull" : "");
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", origin.map(PullDirectory.Origin::model).orElse(null));
            m.put("version", origin.map(PullDirectory.Origin::version).orElse(null));
            m.put("digest", origin.map(PullDirectory.Origin::digest).orElse(null));
            m.put("changedSincePull", changed);
            return m;
        }
    }

    /**
     * Whether this pull may replace {@code target}, which holds a package of the same name: null when it holds this
     * package already, file by file (a record alone is not enough: the files may have changed since), so nothing is
     * lost; what it held when it is another package (or changed since it was pulled) and replacing it was asked for ({@code --replace}, or {@code --name} over a package of
     * the same model or one no pull recorded, as --name always replaced). Otherwise refused, naming both and the fixes:
     * a build id names neither the model nor the version, so two models' packages of one build share a name.
     */
    private Replaced mayReplace(PullDirectory records, String pkgName, Path target, Path incomingPkg,
                                PullDirectory.Origin incoming) throws IOException {
        java.util.Optional<PullDirectory.Origin> was = records.origin(pkgName);
        // The record says what was unpacked, not what is there now: the files decide, the record only names them
        if (PullDirectory.sameContent(target, incomingPkg)) {
            return null;
        }
        boolean changed = was.isPresent() && was.get().digest().equals(incoming.digest());
        boolean asked = replace || name != null && (was.isEmpty() || was.get().model().equals(incoming.model()));
        if (asked) {
            return new Replaced(was, changed);
        }
        if (changed) {
            throw new UsageException(target + " was pulled as " + was.get().describe() + ", which this pull is too, but "
                    + "its files changed since (rebuilt or put there by hand?): nothing was replaced. Pass --replace to "
                    + "replace it with the pulled package, " + (name == null ? "--name <name>.mlpackage" : "another --name")
                    + " to keep both, or another --out");
        }
        String held = was.map(o -> "holds " + o.describe() + " from an earlier pull")
                .orElse("holds another package, which no pull recorded (an older aneforge pulled it, or it was put there by hand)");
        throw new UsageException(target + " " + held + ", and this pull is " + incoming.describe()
                + (name == null ? ", whose package has the same name (its build id, which names neither the model nor the "
                + "version)" : ", asked for under the same --name") + ": nothing was replaced. Pass --replace to replace it, "
                + (name == null ? "--name <name>.mlpackage" : "another --name") + " to keep both, or another --out");
    }

    /** The other {@code *.mlpackage} directories in {@code dir}, sorted: what an app bundling it would ship besides {@code name}. */
    private static List<String> otherPackages(Path dir, String name) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(f -> f.endsWith(".mlpackage") && !f.startsWith(".") && !f.equals(name))
                    .filter(f -> Files.isDirectory(dir.resolve(f)))
                    .sorted().toList();
        }
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
