package io.aneforge.registry.matrix;

import io.aneforge.estimate.CostCounter;
import io.aneforge.estimate.ProgramCost;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.registry.blob.Blob;
import io.aneforge.registry.storage.BlobStorage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The FLOPs and bytes of a variant's package, counted once per blob and kept in {@code blob_cost}.
 * Counting needs the package's program and weights, so the blob is read from storage and unzipped
 * into a temporary directory the first time a matrix shows it; later matrices read the row. A
 * package that cannot be counted (not a MIL program, or larger than
 * {@code aneforge.matrix.estimate-max-bytes}) gets a row with the reason and no estimate.
 */
@Component
class PackageCosts {

    /** A counted cost, or why there is none. */
    record Outcome(ProgramCost cost, String unavailable) {}

    private final JdbcClient jdbc;
    private final BlobStorage storage;
    private final long maxBytes;

    PackageCosts(JdbcClient jdbc, BlobStorage storage,
                 @Value("${aneforge.matrix.estimate-max-bytes:536870912}") long maxBytes) {
        this.jdbc = jdbc;
        this.storage = storage;
        this.maxBytes = maxBytes;
    }

    Outcome cost(String digestHex, long size) {
        Outcome stored = jdbc.sql("SELECT flops, weight_bytes, activation_bytes, error FROM blob_cost WHERE digest = ?")
                .param(digestHex)
                .query((rs, i) -> rs.getString(4) != null ? new Outcome(null, rs.getString(4))
                        : new Outcome(ProgramCost.of(rs.getLong(1), rs.getLong(2), rs.getLong(3)), null))
                .optional().orElse(null);
        if (stored != null) return stored;
        Outcome fresh = count(digestHex, size);
        ProgramCost c = fresh.cost();
        jdbc.sql("INSERT INTO blob_cost (digest, flops, weight_bytes, activation_bytes, error) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (digest) DO NOTHING")
                .params(digestHex, c == null ? null : c.flops(), c == null ? null : c.weightBytes(),
                        c == null ? null : c.activationBytes(), fresh.unavailable())
                .update();
        return fresh;
    }

    private Outcome count(String digestHex, long size) {
        if (size > maxBytes) {
            return new Outcome(null, "the package is " + size + " bytes, over aneforge.matrix.estimate-max-bytes ("
                    + maxBytes + "); raise it to estimate packages this large");
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("aneforge-cost-");
            try (InputStream in = storage.open(Blob.keyFor(digestHex), 0, -1)) {
                PackageArchive.unzip(in, dir, PackageArchive.Limits.defaults());
            }
            Path root = packageRoot(dir);
            if (root == null) return new Outcome(null, "no Manifest.json at the package root");
            return new Outcome(CostCounter.count(MlPackage.read(root)), null);
        } catch (RuntimeException | IOException e) {
            // Not fatal for the matrix: the cells stay "pending" and the row says why there is no estimate.
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            // the reader names files by their path in this server's scratch directory: show them within the package
            if (dir != null) msg = msg.replace(dir + java.io.File.separator, "").replace(dir.toString(), "the package");
            return new Outcome(null, "the package could not be read as a MIL program: "
                    + (msg.length() > 300 ? msg.substring(0, 300) + "…" : msg));
        } finally {
            if (dir != null) delete(dir);
        }
    }

    private static Path packageRoot(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(MlPackage.MANIFEST))) return dir;
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> roots = s.filter(p -> Files.isRegularFile(p.resolve(MlPackage.MANIFEST))).toList();
            return roots.size() == 1 ? roots.get(0) : null;
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // a leftover temp directory is harmless
        }
    }
}
