package io.aneforge.cli;

import io.aneforge.cli.pull.PullDirectory;
import io.aneforge.cli.registry.BlobCache;
import io.aneforge.cli.registry.RegistryClient;
import io.aneforge.io.IoProblems;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.names.RegistryNames;
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
            description = "Unpack under this directory name in --out (in --out itself unless --out-layout model is "
                    + "given), replacing a package of that name pulled from the same model: a stable name for an app build's resources, whichever variant or version the registry "
                    + "serves (default: the package's own name, its build id).")
    String name;

    @Option(names = "--replace", description = "Replace a package of the same name that holds another model's package, "
            + "one whose files changed since it was pulled, or (in the flat layout without --name) another version's "
            + "(default: refuse, naming both; the same package again is always replaced).")
    boolean replace;

    @Option(names = "--out-layout", paramLabel = "model|flat",
            description = "Where in --out the package goes. model: <out>/<model>/<name>.mlpackage, one directory per "
                    + "model, where pulling another version of the model (an alias that moved) replaces the version in "
                    + "place and says so. flat: <out>/<name>.mlpackage, where another version's package of the same "
                    + "build is refused, as pulls did before model became the default (default: model; flat with "
                    + "--name, whose name is a stable path already).")
    String outLayout;

    @Option(names = "--cache-dir", paramLabel = "<dir>",
            description = "Where verified archives are kept by sha256, so pulling the same variant again does not download "
                    + "it (default: $ANEFORGE_CACHE_DIR, else $XDG_CACHE_HOME/aneforge, else ~/.cache/aneforge).")
    Path cacheDir;

    @Option(names = "--no-cache", description = "Neither read nor fill the cache: always download.")
    boolean noCache;

    @Option(names = "--json", description = "Print one JSON object (model, version, alias, variant, digest, size, path, "
            + "outLayout, archive, fromCache, replaced, otherPackages) instead of text, for build logs.")
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
        if (outLayout != null && !outLayout.equals("model") && !outLayout.equals("flat")) {
            throw new UsageException("--out-layout must be model or flat (got '" + outLayout + "')");
        }
        if (byModel() && select.model != null && select.model.endsWith(".mlpackage")) {
            throw new UsageException("model " + select.model + " cannot have a directory of its own in --out: its name "
                    + "ends in .mlpackage, so Xcode would take the directory for a package: pass --out-layout flat");
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
            Path modelDir = out.resolve(select.model);
            if (byModel() && Files.isDirectory(modelDir, LinkOption.NOFOLLOW_LINKS)) {
                new PullDirectory(modelDir).removeStaleTemporaries(Instant.now().minus(STALE));
            }
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
     * Whether the package goes into {@code <out>/<model>/} rather than {@code <out>} itself. The model layout is the
     * default since an app build wants one path per model across alias moves; {@code --name} keeps its flat
     * {@code <out>/<name>}, so the scripts that already chose a stable name keep their paths.
     */
    boolean byModel() {
        return outLayout != null ? outLayout.equals("model") : name == null;
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
                    : pkgRoot.equals(unpackDir) ? rootContentName(r, expected)
                    : pkgRoot.getFileName().toString();
            Path dir = byModel() ? out.resolve(select.model) : out;
            Path target = dir.resolve(pkgName);
            PullDirectory records = new PullDirectory(dir);
            PullDirectory.Origin incoming = new PullDirectory.Origin(r.path("model").asString(""),
                    r.path("version").asInt(), digest, PullDirectory.fingerprint(pkgRoot));
            Replaced replaced = null;
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                replaced = mayReplace(records, pkgName, target, incoming);
                records.forget(pkgName);
                ConvertCommand.delete(target);
            }
            Files.createDirectories(dir);
            Files.move(pkgRoot, target);
            records.record(pkgName, incoming);
            Path zip = null;
            if (keepArchive) {
                zip = dir.resolve(pkgName + ".zip"); // beside the package: another model's of one build has its own
                Files.copy(archive, zip, StandardCopyOption.REPLACE_EXISTING);
            }
            List<String> others = otherPackages(dir, pkgName);
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
                summary.put("outLayout", byModel() ? "model" : "flat");
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
                    stdout.println(replaced.movedFrom(incoming)
                            ? "replaced " + replaced.origin().get().describe() + " by " + incoming.describeVersion() + " in "
                                + target
                            : "replaced " + target + ", which held " + replaced.describe());
                }
            }
            if (!others.isEmpty()) {
                Map<String, PullDirectory.Origin> recorded = records.origins();
                String listed = others.stream()
                        .map(o -> recorded.containsKey(o) ? o + " (" + recorded.get(o).describe() + ")" : o)
                        .collect(java.util.stream.Collectors.joining(", "));
                stderr.println("aneforge pull: note: " + dir + " also holds " + listed + " (earlier pulls?): "
                        + "an app that bundles " + out + " ships them too; pass --name <name>.mlpackage to pull into one "
                        + "stable name, or remove them");
            }
            if (byModel()) {
                noteFlatPackages(stderr, incoming.model());
            }
        } finally {
            if (Files.exists(unpackDir)) {
                ConvertCommand.delete(unpackDir);
            }
        }
        return AneForge.OK;
    }

    /**
     * The name of a package whose archive holds its content at the root (not an aneforge archive, which names its
     * top-level directory by the build id). Flat: the model, version and digest keep two variants of a version apart.
     * By model: the registry's variant id, so the path stays the same when the alias moves to another version (the
     * digest as in flat when the answer has no usable id).
     */
    private String rootContentName(JsonNode r, String sha256) {
        String variantId = r.path("variant").path("id").asString("");
        // the model names' rule (letters, digits, '.', '_', '-'; no leading dot) keeps it one plain directory name
        if (byModel() && RegistryNames.isModel(variantId) && !variantId.endsWith(".mlpackage")) {
            return variantId + ".mlpackage";
        }
        return r.path("model").asString("model") + "-v" + r.path("version").asInt() + "-" + sha256.substring(0, 12)
                + ".mlpackage";
    }

    /**
     * In the model layout, names the packages of the same model that pulls in the flat layout left in {@code --out}
     * itself: an app bundling {@code --out} would ship the model twice.
     */
    private void noteFlatPackages(PrintWriter stderr, String model) throws IOException {
        List<String> flat = new PullDirectory(out).origins().entrySet().stream()
                .filter(e -> e.getValue().model().equals(model)
                        && Files.isDirectory(out.resolve(e.getKey()), LinkOption.NOFOLLOW_LINKS))
                .map(e -> e.getKey() + " (" + e.getValue().describe() + ")").toList();
        if (!flat.isEmpty()) {
            stderr.println("aneforge pull: note: " + out + " also holds " + String.join(", ", flat) + ", pulled in the "
                    + "flat layout: an app that bundles " + out + " ships " + model + " twice; remove "
                    + (flat.size() == 1 ? "it" : "them") + ", or pass --out-layout flat to pull into " + out + " itself");
        }
    }

    /**
     * What a pull replaced: where the package came from, empty when no pull recorded it; {@code changed} when its
     * files were no longer the ones that pull unpacked.
     */
    private record Replaced(java.util.Optional<PullDirectory.Origin> origin, boolean changed) {

        /**
         * Whether this was the same model's package, unchanged, at another version: an alias that moved. (Another
         * variant of the same version, under one --name, is told as the package it held.)
         */
        boolean movedFrom(PullDirectory.Origin incoming) {
            return !changed && origin.isPresent() && origin.get().model().equals(incoming.model())
                    && origin.get().version() != incoming.version();
        }

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
     * lost; what it held when replacing it loses nothing the user made or was asked for. Replaced unasked: the same
     * model's package, unchanged since its pull, at another version (an alias that moved) in the model layout or
     * under {@code --name}, and under a flat {@code --name} a package no pull recorded (as --name always replaced).
     * Refused, naming both and the fixes: files changed since their pull (the record's fingerprint tells), another
     * model's package, and in the flat layout another version's (a build id names neither the model nor the version).
     */
    private Replaced mayReplace(PullDirectory records, String pkgName, Path target, PullDirectory.Origin incoming)
            throws IOException {
        java.util.Optional<PullDirectory.Origin> was = records.origin(pkgName);
        // The record says what was unpacked, not what is there now: the files decide, the record only names them
        String there = PullDirectory.fingerprint(target);
        if (there.equals(incoming.files())) {
            return null;
        }
        // A record from before fingerprints can only tell that the files are not what this very pull unpacks
        boolean changed = was.isPresent() && (was.get().files() != null ? !was.get().files().equals(there)
                : was.get().digest().equals(incoming.digest()));
        boolean sameModel = was.isPresent() && was.get().model().equals(incoming.model());
        if (replace) {
            return new Replaced(was, changed);
        }
        String keepBoth = name == null ? "--name <name>.mlpackage" : "another --name";
        // the flat layout refuses the model's other version only because a build id names no model: say how to follow it
        String follow = sameModel && name == null && !byModel()
                ? " (or --out-layout model, where the model's other version replaces the one in place)" : "";
        if (changed) {
            boolean thisPull = was.get().digest().equals(incoming.digest());
            throw new UsageException(target + " was pulled as " + was.get().describe()
                    + (thisPull ? ", which this pull is too, but its files changed since (rebuilt or put there by hand?)"
                    : ", but its files changed since (rebuilt or put there by hand?), and this pull is "
                    + incoming.describe()) + ": nothing was replaced. Pass --replace to replace it with the pulled "
                    + "package, " + keepBoth + " to keep both, or another --out");
        }
        if (sameModel && (byModel() || name != null) || was.isEmpty() && name != null && !byModel()) {
            return new Replaced(was, false);
        }
        String held = was.map(o -> "holds " + o.describe() + " from an earlier pull")
                .orElse("holds another package, which no pull recorded (an older aneforge pulled it, or it was put there by hand)");
        String why = name != null ? ", asked for under the same --name"
                : byModel() ? ", whose package has the same name in " + select.model + "'s directory"
                : ", whose package has the same name (its build id, which names neither the model nor the version)";
        throw new UsageException(target + " " + held + ", and this pull is " + incoming.describe() + why
                + ": nothing was replaced. Pass --replace to replace it, " + keepBoth + " to keep both, or another --out"
                + follow);
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
