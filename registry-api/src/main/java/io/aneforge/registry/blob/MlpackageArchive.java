package io.aneforge.registry.blob;

import io.aneforge.mlpackage.MlPackageException;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.storage.BlobStorage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * Checks that a blob is a zipped {@code .mlpackage}: a zip whose package root holds
 * {@code Manifest.json}. The package root is the archive root, or a single top-level directory
 * named {@code *.mlpackage}. The archive itself must pass ane-core's {@link PackageArchive#check}, the
 * rules the device agent and the CLI unzip with: read from the central directory (what unzip, Python and
 * ZipFile list), no truncation, no symbolic links, local headers naming the same files, no absolute
 * paths, {@code ..} segments, backslashes or duplicates, and within the entry-count and
 * uncompressed-size limits (counted while inflating, not trusted from headers).
 */
@Component
public class MlpackageArchive {

    /** How the archive is named inside ane-core's messages, after "blob sha256:… is not a zipped .mlpackage: ". */
    private static final String ARCHIVE = "the archive";

    private final BlobStorage storage;
    private final PackageArchive.Limits limits;

    MlpackageArchive(BlobStorage storage, RegistryProperties props) {
        this.storage = storage;
        long maxUncompressed = props.archive().maxUncompressedSize();
        this.limits = new PackageArchive.Limits(props.archive().maxEntries(), maxUncompressed, maxUncompressed);
    }

    /**
     * The checks need the central directory at the end of the archive and read entries where it says, so the
     * blob is copied to a temporary file first (deleted afterwards) rather than held in memory. Failing to
     * read the store or write the copy is the registry's fault, not the archive's: that is not a 422.
     */
    public void validate(Blob blob) {
        Path spool = null;
        try {
            spool = Files.createTempFile("aneforge-archive-", ".zip");
            try (InputStream in = storage.open(blob.storageKey(), 0, -1)) {
                long copied = Files.copy(in, spool, StandardCopyOption.REPLACE_EXISTING);
                if (copied != blob.size()) {
                    throw new IOException("read " + copied + " bytes of blob " + blob.digest() + ", which has " + blob.size());
                }
            }
            validate(spool, blob.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy blob " + blob.digest() + " to a temporary file to check it", e);
        } finally {
            if (spool != null) {
                try {
                    Files.deleteIfExists(spool);
                } catch (IOException ignored) {
                    // a leftover temporary file is not worth failing the registration for
                }
            }
        }
    }

    void validate(Path zip, String what) {
        List<String> names;
        try {
            names = PackageArchive.check(zip, ARCHIVE, limits);
        } catch (PackageArchive.LimitExceeded e) {
            throw invalid(what, e.getMessage() + "; the registry's limit is aneforge.archive."
                    + (e.limit() == PackageArchive.Limit.ENTRIES ? "max-entries" : "max-uncompressed-size"));
        } catch (MlPackageException e) {
            throw invalid(what, e.getMessage());
        }
        if (names.isEmpty()) throw invalid(what, "the archive has no entries");
        Set<String> roots = new HashSet<>();
        boolean rootManifest = false;
        Set<String> nestedManifests = new HashSet<>();
        for (String name : names) {
            int slash = name.indexOf('/');
            roots.add(slash < 0 ? name : name.substring(0, slash));
            if (name.equals("Manifest.json")) rootManifest = true;
            if (slash > 0 && name.substring(slash + 1).equals("Manifest.json")) nestedManifests.add(name.substring(0, slash));
        }
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
