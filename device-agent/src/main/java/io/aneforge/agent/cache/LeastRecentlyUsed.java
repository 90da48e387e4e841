package io.aneforge.agent.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Which entries a size-capped cache evicts: least recently used first, never one in use. The artifact cache and
 * the compiled-model cache store entries, mark their use and delete them differently; this choice is the same.
 */
public final class LeastRecentlyUsed {

    private LeastRecentlyUsed() {
    }

    /**
     * One cache entry as eviction sees it.
     *
     * @param path where it is
     * @param sizeBytes what it holds on disk
     * @param lastUsed when it was last handed out (ordering only; an entry without a mark is the oldest)
     * @param inUse kept whatever the cap says (the entry just returned, a model being benchmarked), and counted
     */
    public record Entry(Path path, long sizeBytes, FileTime lastUsed, boolean inUse) {}

    /** Oldest first; equal times by path, so two runs over the same entries choose the same ones. */
    public static List<Entry> oldestFirst(Collection<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(Entry::lastUsed).thenComparing(Entry::path));
        return sorted;
    }

    /**
     * The entries to evict, oldest first, so that the rest hold at most {@code maxBytes}. Entries in use are never
     * chosen but their bytes count, so the rest may have to go to make room beside them; when the entries in use
     * alone are over the cap, everything else goes and the cache stays over it until they are released.
     */
    public static List<Entry> toEvict(Collection<Entry> entries, long maxBytes) {
        long total = entries.stream().mapToLong(Entry::sizeBytes).sum();
        List<Entry> victims = new ArrayList<>();
        for (Entry e : oldestFirst(entries)) {
            if (total <= maxBytes) {
                break;
            }
            if (!e.inUse()) {
                victims.add(e);
                total -= e.sizeBytes();
            }
        }
        return victims;
    }

    /**
     * What an entry (a file or a directory tree) holds on disk, for {@link Entry#sizeBytes()}: the sizes of its
     * regular files, links not followed (a link into another tree is not this entry's bytes). A file that vanishes
     * while it is walked counts 0; the root itself unreadable is an error.
     */
    public static long sizeOnDisk(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot measure " + root, e);
        }
    }
}
