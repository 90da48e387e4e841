package io.aneforge.registry.matrix;

import io.aneforge.estimate.CostCounter;
import io.aneforge.estimate.ProgramCost;
import io.aneforge.memory.Heap;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.mlpackage.MlPackageException;
import io.aneforge.mlpackage.PackageArchive;
import io.aneforge.registry.blob.Blob;
import io.aneforge.registry.storage.BlobStorage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The FLOPs and bytes of a variant's package, counted once per blob and kept in {@code blob_cost}.
 * Counting needs the package's program and weights, so the blob is copied from storage to a temporary
 * file, unzipped and decoded the first time a matrix shows it; later matrices read the row (one query
 * for all the packages of a matrix).
 *
 * <p>Only what the package's bytes decide is stored: a count, or the reason the package cannot be read
 * as a MIL program. A failure to read the store or the scratch directory says nothing about the
 * package, so it is not stored: the row shows it, and the package is counted again by the first
 * request after {@code aneforge.matrix.estimate-retry-after}. A package over
 * {@code aneforge.matrix.estimate-max-bytes} is not counted and not stored either (the limit may be raised).
 *
 * <p>Counting runs inside the first matrix request. Concurrent requests for the same blob wait for one
 * count (single flight per digest) rather than each reading and unzipping the blob.
 */
@Component
class PackageCosts {

    /** A counted cost, or why there is none. */
    record Outcome(ProgramCost cost, String unavailable) {}

    /** A blob to cost. */
    record Package(String digestHex, long size) {}

    /** A failure that says nothing about the package: reported until {@code untilNanos}, then retried. */
    private record Transient(String reason, long untilNanos) {}

    /**
     * Thrown by the counting step for what is not the package's fault: the store or the local disk
     * (tried again after the retry delay), or this server's heap or settings, which only a restart changes
     * (so not tried again by this process).
     */
    static final class TransientFailure extends RuntimeException {
        final boolean untilRestart;

        TransientFailure(String message) {
            this(message, false);
        }

        TransientFailure(String message, boolean untilRestart) {
            super(message);
            this.untilRestart = untilRestart;
        }
    }

    private final JdbcClient jdbc;
    private final BlobStorage storage;
    private final long maxBytes;
    private final long retryAfterNanos;
    private final ConcurrentHashMap<String, CompletableFuture<Outcome>> inFlight = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Transient> recentFailures = new ConcurrentHashMap<>();
    private final Counter counted;
    private final Counter unreadable;
    private final Counter failed;

    PackageCosts(JdbcClient jdbc, BlobStorage storage, MeterRegistry meters,
                 @Value("${aneforge.matrix.estimate-max-bytes:536870912}") long maxBytes,
                 @Value("${aneforge.matrix.estimate-retry-after:10s}") Duration retryAfter) {
        this.jdbc = jdbc;
        this.storage = storage;
        this.maxBytes = maxBytes;
        this.retryAfterNanos = retryAfter.toNanos();
        String name = "aneforge.matrix.package.counts";
        String what = "packages read and counted for roofline estimates, by outcome";
        this.counted = Counter.builder(name).description(what).tag("outcome", "counted").register(meters);
        this.unreadable = Counter.builder(name).description(what).tag("outcome", "unreadable").register(meters);
        this.failed = Counter.builder(name).description(what).tag("outcome", "storage-error").register(meters);
    }

    /** The outcome of each package by digest: stored rows in one query, the rest counted (once per digest). */
    Map<String, Outcome> costs(Collection<Package> packages) {
        Map<String, Outcome> out = new HashMap<>();
        if (packages.isEmpty()) return out;
        String[] digests = packages.stream().map(Package::digestHex).distinct().toArray(String[]::new);
        jdbc.sql("SELECT digest, flops, weight_bytes, activation_bytes, error FROM blob_cost WHERE digest = ANY(?)")
                .param(digests)
                .query(rs -> {
                    out.put(rs.getString(1), row(rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getString(5)));
                });
        for (Package p : packages) {
            if (!out.containsKey(p.digestHex())) out.put(p.digestHex(), countOnce(p));
        }
        return out;
    }

    private static Outcome row(long flops, long weightBytes, long activationBytes, String error) {
        return error != null ? new Outcome(null, error) : new Outcome(ProgramCost.of(flops, weightBytes, activationBytes), null);
    }

    private Outcome stored(String digestHex) {
        return jdbc.sql("SELECT flops, weight_bytes, activation_bytes, error FROM blob_cost WHERE digest = ?")
                .param(digestHex)
                .query((rs, i) -> row(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4)))
                .optional().orElse(null);
    }

    /** One count per digest at a time: later callers wait for the running one and share its outcome. */
    private Outcome countOnce(Package p) {
        CompletableFuture<Outcome> mine = new CompletableFuture<>();
        CompletableFuture<Outcome> running = inFlight.putIfAbsent(p.digestHex(), mine);
        if (running != null) return running.join();
        try {
            Outcome o = countAndStore(p);
            mine.complete(o);
            return o;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(p.digestHex(), mine);
        }
    }

    private Outcome countAndStore(Package p) {
        // counted and stored by a request whose flight ended after this request's batch read
        Outcome stored = stored(p.digestHex());
        if (stored != null) return stored;
        if (p.size() > maxBytes) {
            return new Outcome(null, "the package is " + p.size() + " bytes, over aneforge.matrix.estimate-max-bytes ("
                    + maxBytes + "); raise it to estimate packages this large");
        }
        Transient recent = recentFailures.get(p.digestHex());
        if (recent != null && recent.untilNanos() - System.nanoTime() > 0) return new Outcome(null, recent.reason());
        Outcome fresh;
        try {
            fresh = count(p);
        } catch (TransientFailure e) {
            failed.increment();
            String reason = e.getMessage() + (e.untilRestart
                    ? "; not stored, tried again after the registry restarts"
                    : "; not stored, tried again on a matrix request after " + Duration.ofNanos(retryAfterNanos).toMillis() + " ms");
            // the heap and the settings are fixed for this process's life: reading the package again cannot help
            long wait = e.untilRestart ? Long.MAX_VALUE / 4 : retryAfterNanos;
            recentFailures.put(p.digestHex(), new Transient(reason, System.nanoTime() + wait));
            return new Outcome(null, reason);
        }
        recentFailures.remove(p.digestHex());
        (fresh.cost() != null ? counted : unreadable).increment();
        ProgramCost c = fresh.cost();
        jdbc.sql("INSERT INTO blob_cost (digest, flops, weight_bytes, activation_bytes, error) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (digest) DO NOTHING")
                .params(p.digestHex(), c == null ? null : c.flops(), c == null ? null : c.weightBytes(),
                        c == null ? null : c.activationBytes(), fresh.unavailable())
                .update();
        return fresh;
    }

    /** The package's cost or why its content cannot be counted; {@link TransientFailure} for everything else. */
    private Outcome count(Package p) {
        Path dir = null;
        try {
            Path spool;
            try {
                dir = Files.createTempDirectory("aneforge-cost-");
                spool = dir.resolve("package.zip");
                try (InputStream in = storage.open(Blob.keyFor(p.digestHex()), 0, -1)) {
                    long copied = Files.copy(in, spool, StandardCopyOption.REPLACE_EXISTING);
                    if (copied != p.size()) {
                        throw new IOException("read " + copied + " of the blob's " + p.size() + " bytes");
                    }
                }
            } catch (RuntimeException | IOException e) {
                // the store (or the scratch directory) failed, not the package
                throw new TransientFailure("the package could not be read from storage: " + message(e, dir));
            }
            Path unpacked = dir.resolve("p");
            try {
                PackageArchive.unzip(spool, unpacked, unzipLimits());
            } catch (PackageArchive.LimitExceeded e) {
                if (e.limit() == PackageArchive.Limit.ENTRIES) throw e; // the package's own shape: a content verdict
                throw new TransientFailure("the package unpacks to more than aneforge.matrix.estimate-max-bytes (" + maxBytes
                        + ") allows: " + message(e, dir) + "; raise it to estimate packages this large", true);
            }
            Path root;
            try {
                root = packageRoot(unpacked);
            } catch (IOException e) {
                throw new TransientFailure("the package could not be unpacked on this server: " + message(e, dir));
            }
            if (root == null) return new Outcome(null, "no Manifest.json at the package root");
            return new Outcome(CostCounter.count(MlPackage.read(root)), null);
        } catch (MlPackageException.OutOfHeap e) {
            throw new TransientFailure(message(e.problem(), dir) + ": give the registry a larger heap, at least "
                    + Heap.xmxFor(e.neededBytes()) + " (its JVM's -Xmx; the image sizes the heap at 75 % of the container's"
                    + " memory, so with the Helm chart raise registry.resources.limits.memory)", true);
        } catch (MlPackageException e) {
            if (e.kind() != MlPackageException.Kind.CONTENT) {
                throw new TransientFailure("the package could not be unpacked on this server: " + message(e, dir));
            }
            // Not fatal for the matrix: the cells stay "pending" and the row says why there is no estimate.
            return new Outcome(null, "the package could not be read as a MIL program: " + message(e, dir));
        } catch (RuntimeException e) {
            if (e instanceof TransientFailure) throw e;
            // the counter's refusals (a MilException) are about the program
            return new Outcome(null, "the package could not be read as a MIL program: " + message(e, dir));
        } finally {
            if (dir != null) delete(dir);
        }
    }

    /**
     * What the unzip may write: a package's weights are stored (not deflated), so its weight.bin is at most
     * the blob's size, which is at most {@code estimate-max-bytes}; the rest is a model.mlmodel and a
     * manifest the reader takes only up to their own limits. A zip that inflates past this (a 2 MB blob
     * holding a 4 GiB model.mlmodel) is refused while unzipping instead of being written out and then refused.
     */
    private PackageArchive.Limits unzipLimits() {
        long total = maxBytes + MlPackage.MAX_MODEL_BYTES + MlPackage.MAX_MANIFEST_BYTES;
        return new PackageArchive.Limits(PackageArchive.Limits.defaults().maxEntries(),
                Math.max(maxBytes, MlPackage.MAX_MODEL_BYTES), total);
    }

    private static String message(Throwable e, Path dir) {
        return message(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), dir);
    }

    private static String message(String msg, Path dir) {
        // the reader names files by their path in this server's scratch directory: show them within the package
        if (dir != null) {
            Path unpacked = dir.resolve("p");
            msg = msg.replace(unpacked + java.io.File.separator, "").replace(unpacked.toString(), "the package")
                    .replace(dir + java.io.File.separator, "").replace(dir.toString(), "the package");
        }
        return msg.length() > 300 ? msg.substring(0, 300) + "…" : msg;
    }

    private static Path packageRoot(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(MlPackage.MANIFEST))) return dir;
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> roots = s.filter(p -> Files.isRegularFile(p.resolve(MlPackage.MANIFEST))).toList();
            return roots.size() == 1 ? roots.get(0) : null;
        }
    }

    private static void delete(Path path) {
        try (Stream<Path> s = Files.walk(path)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // a leftover temp file is harmless
        }
    }
}
