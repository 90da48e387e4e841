package io.aneforge.source;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The directories a {@code local} model source must lie under ({@code ANEFORGE_SOURCES_LOCAL_ROOTS}): one
 * reading of the setting for the registry, which checks a source's path lexically, and the converter worker,
 * which checks real paths, so both accept and refuse the same values with the same words.
 */
public final class LocalRoots {

    private LocalRoots() {
    }

    /**
     * The roots in {@code raw}, stripped and normalized; blank entries (the empty default, stray commas) dropped.
     *
     * @param setting how the setting is named in the error (its property and variable)
     * @throws IllegalArgumentException naming the setting and the bad root when one is not an absolute path
     *     without {@code ..} segments
     */
    public static List<String> parse(List<String> raw, String setting) {
        List<String> roots = new ArrayList<>();
        for (String r : raw == null ? List.<String>of() : raw) {
            if (r == null || r.isBlank()) continue;
            String root = r.strip();
            String problem = pathProblem(root);
            if (problem != null) {
                throw new IllegalArgumentException(setting + ": root '" + root + "' " + problem
                        + "; give comma-separated absolute directories, the same on the registry and the workers, "
                        + "e.g. /srv/snapshots");
            }
            roots.add(Path.of(root).normalize().toString());
        }
        return List.copyOf(roots);
    }

    /** Why {@code path} is not an absolute path without {@code ..} segments, or null: for local paths and roots alike. */
    public static String pathProblem(String path) {
        Path p;
        try {
            p = Path.of(path);
        } catch (InvalidPathException e) {
            return "is not a valid path (" + e.getReason() + ")";
        }
        if (!p.isAbsolute()) return "is not absolute";
        for (Path part : p) {
            if (part.toString().equals("..")) return "has a '..' segment";
        }
        return null;
    }
}
