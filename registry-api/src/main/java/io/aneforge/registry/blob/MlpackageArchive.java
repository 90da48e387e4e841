package io.aneforge.registry.blob;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.storage.BlobStorage;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import org.springframework.stereotype.Component;

/**
 * Checks that a blob is a zipped {@code .mlpackage}: a zip whose package root holds
 * {@code Manifest.json}. The package root is the archive root, or a single top-level directory
 * named {@code *.mlpackage}. Refuses absolute paths, {@code ..} segments, backslashes, and archives
 * over the entry-count or uncompressed-size limits (counted while inflating, not trusted from headers).
 */
@Component
public class MlpackageArchive {

    private final BlobStorage storage;
    private final int maxEntries;
    private final long maxUncompressed;

    MlpackageArchive(BlobStorage storage, RegistryProperties props) {
        this.storage = storage;
        this.maxEntries = props.archive().maxEntries();
        this.maxUncompressed = props.archive().maxUncompressedSize();
    }

    public void validate(Blob blob) {
        try (InputStream in = storage.open(blob.storageKey(), 0, -1)) {
            validate(in, blob.digest());
        } catch (IOException e) {
            throw invalid(blob.digest(), "it is not a readable zip archive (" + e.getMessage() + ")");
        }
    }

    void validate(InputStream raw, String what) throws IOException {
        Set<String> roots = new HashSet<>();
        boolean rootManifest = false;
        Set<String> nestedManifests = new HashSet<>();
        int entries = 0;
        long total = 0;
        byte[] buf = new byte[64 * 1024];
        try (ZipInputStream zip = new ZipInputStream(raw)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (++entries > maxEntries) {
                    throw invalid(what, "it has more than " + maxEntries + " entries (aneforge.archive.max-entries)");
                }
                String name = e.getName();
                if (name.startsWith("/") || name.contains("\\") || name.matches("^[A-Za-z]:.*")) {
                    throw invalid(what, "entry '" + name + "' has an absolute path");
                }
                for (String seg : name.split("/")) {
                    if (seg.equals("..")) throw invalid(what, "entry '" + name + "' escapes the package with '..'");
                }
                for (int n; (n = zip.read(buf)) > 0; ) {
                    total += n;
                    if (total > maxUncompressed) {
                        throw invalid(what, "it inflates to more than " + maxUncompressed
                                + " bytes (aneforge.archive.max-uncompressed-size)");
                    }
                }
                int slash = name.indexOf('/');
                roots.add(slash < 0 ? name : name.substring(0, slash));
                if (name.equals("Manifest.json")) rootManifest = true;
                if (slash > 0 && name.substring(slash + 1).equals("Manifest.json")) nestedManifests.add(name.substring(0, slash));
            }
        } catch (ZipException e) {
            throw invalid(what, "it is not a valid zip archive (" + e.getMessage() + ")");
        }
        if (entries == 0) throw invalid(what, "it is empty or not a zip archive");
        if (rootManifest) return;
        if (roots.size() == 1) {
            String root = roots.iterator().next();
            if (root.endsWith(".mlpackage") && nestedManifests.contains(root)) return;
        }
        throw invalid(what, "no Manifest.json at the package root (expected 'Manifest.json' or '<name>.mlpackage/Manifest.json')");
    }

    private static ApiProblem invalid(String what, String why) {
        return ApiProblem.unprocessable("invalid-mlpackage", "Not a valid .mlpackage archive",
                "blob " + what + " is not a zipped .mlpackage: " + why);
    }
}
