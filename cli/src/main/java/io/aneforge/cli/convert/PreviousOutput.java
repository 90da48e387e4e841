package io.aneforge.cli.convert;

import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.registry.BlobCache;
import io.aneforge.graph.Graphs;
import io.aneforge.io.IoProblems;
import io.aneforge.mlpackage.MlPackage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The files an earlier recipe run wrote into an output directory, as its {@code variants.json} lists them, so that
 * {@code convert --force} can remove those the new run does not write again: a directory of a convert from before
 * shared builds holds one {@code <variant-id>.mlpackage} (and archive) per variant, which would otherwise stay
 * beside the new {@code <build-id>.mlpackage} ones, as would golden data a {@code --samples 0} run no longer writes.
 *
 * <p>Only what {@code variants.json} names is ever a candidate, and only in the shape convert writes it for the role
 * the name has there, because variants.json is plain data in a user's directory (hand-edited, written by another
 * version, copied with the directory): an entry's {@code path} must be a {@code .mlpackage} directory named by the
 * entry's variant or build whose {@code Manifest.json} and model metadata name that variant or build; its
 * {@code archive} a {@code .mlpackage.zip} file of the recorded size and sha256; the golden data convert's own file
 * names with the recorded sha256. A plain name in the directory only (no path separator, no {@code ..}); symbolic
 * links, other files, anything whose shape differs, and whatever is the same file as one the new run wrote (a name
 * differing only in case on a case-insensitive file system) stay.
 */
public final class PreviousOutput {

    /**
     * What a removal did: the names removed, those kept with the reason, and those only partly removed with where
     * the rest is (for the run's output).
     */
    public record Removal(List<String> removed, Map<String, String> kept, Map<String, String> partly) {
        public Removal {
            removed = List.copyOf(removed);
            kept = Map.copyOf(kept);
            partly = Map.copyOf(partly);
        }
    }

    /** Deletes one file or empty directory: {@link Files#delete} but in tests that make a removal fail half-way. */
    @FunctionalInterface
    interface Deleter {
        void delete(Path p) throws IOException;
    }

    /** The role a name has in variants.json, with what was recorded for it there. */
    private sealed interface Role {
        /** An entry's {@code path}: the package of variant {@code variantId}. */
        record Package(String variantId) implements Role {
        }

        /** An entry's {@code archive}, with the size and sha256 recorded for it. */
        record Archive(long size, String sha256) implements Role {
        }

        /** The golden data file convert writes as {@code fileName}, with its recorded sha256. */
        record Golden(String fileName, String sha256) implements Role {
        }

        record Tokenizer() implements Role {
        }
    }

    /** Prefix of the directory a candidate is moved into before it is deleted, so a failure leaves no half package. */
    static final String REMOVING_PREFIX = ".aneforge-removing-";

    private final Path dir;
    /** Name in {@link #dir} → every role variants.json gives it (entries of one build share a package). */
    private final Map<String, List<Role>> written;
    /** Why the earlier variants.json could not be read; null when it was (or there was none). */
    private final String unreadable;

    private PreviousOutput(Path dir, Map<String, List<Role>> written, String unreadable) {
        this.dir = dir;
        this.written = written;
        this.unreadable = unreadable;
    }

    /** The output {@code dir}'s {@code variants.json}, if it has one; nothing when it has none. */
    public static PreviousOutput in(Path dir) {
        Path file = dir.resolve(VariantsManifest.FILE_NAME);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return new PreviousOutput(dir, Map.of(), null);
        }
        VariantsManifest m;
        try {
            m = VariantsManifest.read(file);
        } catch (RuntimeException e) {
            return new PreviousOutput(dir, Map.of(), e.getMessage());
        }
        Map<String, List<Role>> names = new LinkedHashMap<>();
        for (VariantEntry v : m.variants() == null ? List.<VariantEntry>of() : m.variants()) {
            if (v.path() != null) {
                add(names, v.path(), new Role.Package(v.id()));
            }
            if (v.archive() != null) {
                add(names, v.archive(), new Role.Archive(v.size(), v.sha256()));
            }
        }
        add(names, RecipeConversion.TOKENIZER, new Role.Tokenizer());
        VariantsManifest.Golden g = m.golden();
        if (g != null) {
            if (g.inputs() != null) {
                add(names, g.inputs(), new Role.Golden(GoldenData.INPUTS_FILE, g.inputsSha256()));
            }
            if (g.outputs() != null) {
                add(names, g.outputs(), new Role.Golden(GoldenData.OUTPUTS_FILE, g.outputsSha256()));
            }
        }
        return new PreviousOutput(dir, names, null);
    }

    private static void add(Map<String, List<Role>> names, String name, Role role) {
        names.computeIfAbsent(name, n -> new ArrayList<>()).add(role);
    }

    /** Why the earlier {@code variants.json} could not be read (then nothing is removed), or null. */
    public String unreadable() {
        return unreadable;
    }

    /**
     * Removes what the earlier run wrote that is not among {@code rewritten} (the names the new run just put in
     * place). Call it only once the new output is complete. A file that cannot be removed is kept and reported.
     */
    public Removal removeAllBut(Collection<String> rewritten) {
        return removeAllBut(rewritten, Files::delete);
    }

    Removal removeAllBut(Collection<String> rewritten, Deleter deleter) {
        List<String> removed = new ArrayList<>();
        Map<String, String> kept = new LinkedHashMap<>();
        Map<String, String> partly = new LinkedHashMap<>();
        for (Map.Entry<String, List<Role>> e : written.entrySet()) {
            String name = e.getKey();
            if (rewritten.contains(name)) {
                continue;
            }
            if (!plainName(name)) {
                kept.put(name, "not a name in " + dir + ", so not convert's to remove");
                continue;
            }
            Path p = dir.resolve(name);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                continue; // removed by hand already
            }
            if (isRewritten(p, rewritten)) {
                continue; // e.g. IOS16-….mlpackage on a case-insensitive file system: this run's new package
            }
            String unlike = null;
            for (Role role : e.getValue()) {
                unlike = unlikeConvertOutput(name, p, role);
                if (unlike != null) {
                    break;
                }
            }
            if (unlike != null) {
                kept.put(name, unlike);
                continue;
            }
            Path aside;
            try {
                // One rename first: if deleting fails half-way, the name is gone rather than a broken package under it
                aside = Files.createTempDirectory(dir, REMOVING_PREFIX);
            } catch (IOException x) {
                kept.put(name, "cannot remove it: " + IoProblems.describe(x, dir));
                continue;
            }
            try {
                Files.move(p, aside.resolve(name), StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException x) {
                kept.put(name, "cannot remove it: " + IoProblems.describe(x, p));
                quietlyDelete(aside);
                continue;
            }
            try {
                deleteTree(aside, deleter);
                removed.add(name);
            } catch (IOException x) {
                partly.put(name, "could not remove all of it (" + IoProblems.describe(x, aside) + "): what is left is in "
                        + aside + "; remove that by hand");
            }
        }
        return new Removal(removed, kept, partly);
    }

    /** Whether {@code p} is the same file as one the new run wrote, whatever its name's case or spelling. */
    private boolean isRewritten(Path p, Collection<String> rewritten) {
        for (String r : rewritten) {
            Path q = dir.resolve(r);
            try {
                if (Files.exists(q, LinkOption.NOFOLLOW_LINKS) && Files.isSameFile(p, q)) {
                    return true;
                }
            } catch (IOException x) {
                return true; // cannot tell: keep it
            }
        }
        return false;
    }

    private static boolean plainName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0
                && name.indexOf('\\') < 0 && name.indexOf('\0') < 0;
    }

    /** Why {@code p} is not what convert writes under {@code name} in {@code role}, or null when it is. */
    private static String unlikeConvertOutput(String name, Path p, Role role) {
        if (Files.isSymbolicLink(p)) {
            return "a symbolic link, which convert never writes";
        }
        try {
            if (role instanceof Role.Package pkg) {
                return unlikePackage(name, p, pkg.variantId());
            }
            if (role instanceof Role.Archive a) {
                return !name.endsWith(".mlpackage.zip")
                        ? "an entry's archive, but not a .mlpackage.zip name" : unlikeFile(p, a.size(), a.sha256());
            }
            if (role instanceof Role.Golden g) {
                return !name.equals(g.fileName())
                        ? "golden data, but not convert's name for it (" + g.fileName() + ")" : unlikeFile(p, -1, g.sha256());
            }
            return name.equals(RecipeConversion.TOKENIZER) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                    ? null : "not a regular file";
        } catch (IOException x) {
            return "cannot inspect it: " + IoProblems.describe(x, p);
        }
    }

    /** A package convert wrote is named by its variant or build, and its metadata names the same. */
    private static String unlikePackage(String name, Path p, String variantId) {
        if (!name.endsWith(".mlpackage")) {
            return "an entry's path, but not a .mlpackage name";
        }
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                || !Files.isRegularFile(p.resolve(MlPackage.MANIFEST), LinkOption.NOFOLLOW_LINKS)) {
            return "not a package directory with " + MlPackage.MANIFEST;
        }
        String stem = name.substring(0, name.length() - ".mlpackage".length());
        if (!namesVariant(stem, variantId)) {
            return "named neither by its entry's variant " + variantId + " nor by that variant's build";
        }
        Map<String, String> meta;
        try {
            meta = MlPackage.readModel(p).getDescription().getMetadata().getUserDefinedMap();
        } catch (RuntimeException x) {
            return "its model cannot be read (" + x.getMessage() + ")";
        }
        String build = meta.get(Graphs.BUILD_METADATA);
        String variant = meta.get(Graphs.VARIANT_METADATA);
        if (build != null ? namesVariant(build, variantId) : variantId.equals(variant)) {
            return null;
        }
        return "its metadata names " + (build != null ? "build " + build : "variant " + variant)
                + ", not the entry's variant " + variantId;
    }

    /** Whether {@code id} is the variant id itself or its build id (the variant id without the chip before it). */
    private static boolean namesVariant(String id, String variantId) {
        return !id.isEmpty() && (variantId.equals(id) || variantId.endsWith("-" + id));
    }

    private static String unlikeFile(Path p, long size, String sha256) throws IOException {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return "not a regular file";
        }
        if (size >= 0 && Files.size(p) != size) {
            return "its size differs from the " + size + " bytes variants.json recorded";
        }
        if (sha256 == null) {
            return "variants.json records no sha256 for it";
        }
        if (!sha256.equalsIgnoreCase(BlobCache.sha256Of(p))) {
            return "its sha256 differs from the one variants.json recorded";
        }
        return null;
    }

    private static void deleteTree(Path root, Deleter deleter) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                deleter.delete(p);
            }
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void quietlyDelete(Path emptyDir) {
        try {
            Files.deleteIfExists(emptyDir);
        } catch (IOException ignored) {
            // an empty directory left behind is harmless; the note already says what was kept
        }
    }
}
