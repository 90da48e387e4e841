package io.aneforge.worker.source;

import io.aneforge.source.LocalRoots;
import io.aneforge.source.ModelSourceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code aneforge.sources.local-roots} ({@code ANEFORGE_SOURCES_LOCAL_ROOTS}) on the worker: the directories a
 * {@code local} source must really lie under. The registry checks a local path against the same setting, but
 * lexically: it does not see the workers' file systems, so a symbolic link inside an allowed root (the source
 * directory itself, one of its parents, or a file in it such as {@code config.json}) would take the worker anywhere
 * it can read, and the failure texts would tell the publisher what is there. The worker therefore resolves the real
 * path of the source, of every file in it and of every root, and converts only what really lies under a root.
 * Empty (the default) refuses every local source, as on the registry.
 *
 * @param localRoots absolute directories without {@code ..} segments; blank entries (the empty default, stray
 *     commas) are dropped
 */
@ConfigurationProperties("aneforge.sources")
public record LocalSourceRoots(List<String> localRoots) {

    static final String SETTING = "ANEFORGE_SOURCES_LOCAL_ROOTS (aneforge.sources.local-roots)";

    public LocalSourceRoots {
        localRoots = LocalRoots.parse(localRoots, SETTING);
    }


    /**
     * The real path of the local source {@code source}, once it and everything in it (followed through symbolic
     * links) is known to lie under the real path of an allowed root; the caller reads the snapshot from the returned
     * path, so a link on the way to it cannot be swapped afterwards. A source that does not exist is returned as
     * given: the snapshot check then says it is not a directory.
     *
     * @throws ModelSourceException naming the path, the root and the setting when something lies outside
     */
    public Path realSource(Path source) throws IOException {
        if (localRoots.isEmpty()) {
            throw new ModelSourceException("local source '" + source + "' refused: this worker allows no local sources ("
                    + SETTING + " is empty); set it on the worker to the same directories as on the registry");
        }
        if (!Files.exists(source)) return source;
        Path real = source.toRealPath();
        Map<String, Path> realRoots = realRoots();
        String root = rootOf(real, realRoots);
        if (root == null) {
            throw new ModelSourceException("local source '" + source + "' is really '" + real + "', which is under none of"
                    + " the allowed roots " + describe(realRoots) + ", set by " + SETTING + ": a symbolic link leads out of them."
                    + " Copy the snapshot under a root, or add its real directory to " + SETTING
                    + " on the registry and the workers");
        }
        try (Stream<Path> entries = Files.walk(real)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                if (!Files.isSymbolicLink(p)) continue; // not followed by the walk: lies under real, so under the root
                Path target;
                try {
                    target = p.toRealPath();
                } catch (NoSuchFileException dangling) {
                    continue; // leads nowhere: nothing can be read through it (the snapshot check names missing files)
                }
                if (rootOf(target, realRoots) == null) {
                    throw new ModelSourceException("local source '" + source + "': '" + real.relativize(p) + "' is a"
                            + " symbolic link to '" + target + "', which is under none of the allowed roots "
                            + describe(realRoots) + ", set by " + SETTING + ". Replace the link by the file, or add the"
                            + " directory it leads to to " + SETTING + " on the registry and the workers");
                }
            }
        }
        return real;
    }

    /** Each configured root with its real path; a root that does not exist (here) allows nothing. */
    private Map<String, Path> realRoots() throws IOException {
        Map<String, Path> real = new LinkedHashMap<>();
        for (String r : localRoots) {
            try {
                real.put(r, Path.of(r).toRealPath());
            } catch (NoSuchFileException missing) {
                // not on this worker: nothing lies under it
            }
        }
        return real;
    }

    private static String rootOf(Path real, Map<String, Path> realRoots) {
        for (Map.Entry<String, Path> e : realRoots.entrySet()) {
            if (real.startsWith(e.getValue())) return e.getKey();
        }
        return null;
    }

    private String describe(Map<String, Path> realRoots) {
        List<String> parts = new ArrayList<>();
        for (String r : localRoots) {
            Path p = realRoots.get(r);
            parts.add(p == null ? "'" + r + "' (missing on this worker)"
                    : p.toString().equals(r) ? "'" + r + "'" : "'" + r + "' (really '" + p + "')");
        }
        return "[" + String.join(", ", parts) + "]";
    }
}
