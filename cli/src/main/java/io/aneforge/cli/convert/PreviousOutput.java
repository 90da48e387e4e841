package io.aneforge.cli.convert;

import io.aneforge.cli.manifest.VariantEntry;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.io.IoProblems;
import io.aneforge.mlpackage.MlPackage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
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
 * <p>Only what {@code variants.json} names is ever a candidate, and only in the shape convert writes it: a plain name
 * in the directory (no path separator, no {@code ..}), a package directory holding {@code Manifest.json}, an archive
 * file of the entry's size, {@code tokenizer.json} and the golden data files. Symbolic links, other files and
 * anything whose shape differs stay.
 */
public final class PreviousOutput {

    /** What a removal did: the names removed, and those kept with the reason (for the run's output). */
    public record Removal(List<String> removed, Map<String, String> kept) {
        public Removal {
            removed = List.copyOf(removed);
            kept = Map.copyOf(kept);
        }
    }

    private final Path dir;
    /** Name in {@link #dir} → the archive size it must have, or -1 for a package, tokenizer or golden file. */
    private final Map<String, Long> written;
    /** Why the earlier variants.json could not be read; null when it was (or there was none). */
    private final String unreadable;

    private PreviousOutput(Path dir, Map<String, Long> written, String unreadable) {
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
        Map<String, Long> names = new LinkedHashMap<>();
        for (VariantEntry v : m.variants() == null ? List.<VariantEntry>of() : m.variants()) {
            if (v.path() != null) {
                names.putIfAbsent(v.path(), -1L);
            }
            if (v.archive() != null) {
                names.putIfAbsent(v.archive(), v.size());
            }
        }
        names.putIfAbsent(RecipeConversion.TOKENIZER, -1L);
        if (m.golden() != null) {
            for (String g : new String[] {m.golden().inputs(), m.golden().outputs()}) {
                if (g != null) {
                    names.putIfAbsent(g, -1L);
                }
            }
        }
        return new PreviousOutput(dir, names, null);
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
        List<String> removed = new ArrayList<>();
        Map<String, String> kept = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : written.entrySet()) {
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
            String unlike = unlikeConvertOutput(name, p, e.getValue());
            if (unlike != null) {
                kept.put(name, unlike);
                continue;
            }
            try {
                deleteTree(p);
                removed.add(name);
            } catch (IOException x) {
                kept.put(name, "cannot remove it: " + IoProblems.describe(x, p));
            }
        }
        return new Removal(removed, kept);
    }

    private static boolean plainName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0
                && name.indexOf('\\') < 0 && name.indexOf('\0') < 0;
    }

    /** Why {@code p} is not what convert writes under {@code name}, or null when it is. */
    private static String unlikeConvertOutput(String name, Path p, long archiveSize) {
        if (Files.isSymbolicLink(p)) {
            return "a symbolic link, which convert never writes";
        }
        try {
            if (name.endsWith(".mlpackage")) {
                return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                        && Files.isRegularFile(p.resolve(MlPackage.MANIFEST), LinkOption.NOFOLLOW_LINKS)
                        ? null : "not a package directory with " + MlPackage.MANIFEST;
            }
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                return "not a regular file";
            }
            if (archiveSize >= 0 && Files.size(p) != archiveSize) {
                return "its size differs from the " + archiveSize + " bytes variants.json recorded";
            }
            return null;
        } catch (IOException x) {
            return "cannot inspect it: " + IoProblems.describe(x, p);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
