package io.aneforge.agent.cache;

import static io.aneforge.testsupport.archives.Zips.symlinked;
import static io.aneforge.testsupport.archives.Zips.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.aneforge.testsupport.time.MutableClock;

/** The cache against a real local HTTP server (the JDK's), with real zips on disk. */
class ArtifactCacheTest {

    @TempDir
    Path dir;

    private HttpServer server;
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    /** Bodies served instead of {@link #blobs} for the next requests of a blob, one per request. */
    private final Map<String, java.util.Deque<byte[]>> firstServed = new ConcurrentHashMap<>();
    /** Bytes under {@code cache/sha256} when each download request arrived (read from the disk, not the cache). */
    private final List<Long> cachedBytesAtRequest = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger downloads = new AtomicInteger();
    private final Map<String, String> authHeaders = new ConcurrentHashMap<>();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/blobs/", exchange -> {
            String name = exchange.getRequestURI().getPath().substring("/blobs/".length());
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            authHeaders.put(name, auth == null ? "" : auth);
            cachedBytesAtRequest.add(bytesUnder(dir.resolve("cache/sha256")));
            java.util.Deque<byte[]> first = firstServed.get(name);
            byte[] override = first == null ? null : first.poll();
            byte[] body = override != null ? override : blobs.get(name);
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                downloads.incrementAndGet();
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        server.createContext("/redirect/", exchange -> {
            String name = exchange.getRequestURI().getPath().substring("/redirect/".length());
            // "another origin": localhost instead of 127.0.0.1, like a presigned S3 URL on another host
            exchange.getResponseHeaders().add("Location",
                    "http://localhost:" + server.getAddress().getPort() + "/blobs/" + name);
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    private ArtifactCache cache(long cap) {
        return new ArtifactCache(dir.resolve("cache"), cap, new HttpArtifactSource(origin(), "s3cret", Duration.ofSeconds(10)),
                UnzipLimits.defaults(), clock);
    }

    private URI origin() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    /** Serves {@code bytes} under their own digest and returns the reference. */
    private ArtifactRef publish(byte[] bytes) {
        String hex = sha256(bytes);
        blobs.put(hex, bytes);
        return ref(hex, bytes.length);
    }

    /** A package archive whose only file is the Manifest.json {@code {}}. */
    private static byte[] minimalPackage() {
        return zip(Map.of("Manifest.json", new byte[] {'{', '}'}));
    }

    /** {@code bytes} with the bits of {@code mask} flipped in the middle byte: a transfer that corrupted them. */
    private static byte[] withMiddleByteFlipped(byte[] bytes, int mask) {
        byte[] flipped = bytes.clone();
        flipped[flipped.length / 2] ^= (byte) mask;
        return flipped;
    }

    /** Publishes a package whose only file is a Manifest.json of {@code manifestBytes} bytes. */
    private ArtifactRef publishPackageOf(int manifestBytes) {
        return publish(zip(Map.of("Manifest.json", new byte[manifestBytes])));
    }

    /** Gets each of {@code refs} from {@code cache} in turn, the clock a minute later each time. */
    private void getMinutesApart(ArtifactCache cache, ArtifactRef... refs) {
        for (int i = 0; i < refs.length; i++) {
            if (i > 0) {
                clock.advance(Duration.ofMinutes(1));
            }
            cache.get(refs[i]);
        }
    }

    private ArtifactRef ref(String hex, long size) {
        return new ArtifactRef("sha256:" + hex, size,
                URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/blobs/" + hex));
    }

    @Test
    void downloadsVerifiesAndUnpacksANestedPackageThenHitsTheCache() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("Bert.mlpackage/Manifest.json", "{\"fileFormatVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        files.put("Bert.mlpackage/Data/com.apple.CoreML/model.mlmodel", new byte[] {1, 2, 3});
        files.put("Bert.mlpackage/Data/com.apple.CoreML/weights/weight.bin", new byte[4096]);
        files.put("__MACOSX/Bert.mlpackage/._Manifest.json", new byte[] {9});
        ArtifactRef ref = publish(zip(files));
        ArtifactCache cache = cache(1 << 20);

        CachedArtifact first = cache.get(ref);
        CachedArtifact second = cache.get(ref);

        Path pkg = dir.resolve("cache/sha256/" + ref.sha256Hex() + "/model.mlpackage");
        assertThat(first.packageRoot()).isEqualTo(pkg);
        assertThat(pkg.resolve("Manifest.json")).hasContent("{\"fileFormatVersion\":\"1.0.0\"}");
        assertThat(Files.readAllBytes(pkg.resolve("Data/com.apple.CoreML/model.mlmodel"))).containsExactly(1, 2, 3);
        assertThat(Files.size(pkg.resolve("Data/com.apple.CoreML/weights/weight.bin"))).isEqualTo(4096);
        assertThat(dir.resolve("cache/sha256/" + ref.sha256Hex() + "/__MACOSX")).doesNotExist();
        assertThat(second).isEqualTo(first);
        assertThat(downloads).hasValue(1);
        assertThat(authHeaders.get(ref.sha256Hex())).isEqualTo("Bearer s3cret");
        assertThat(cache.sizeBytes()).isEqualTo(first.sizeBytes()).isGreaterThanOrEqualTo(4096 + 3);
        assertThat(tmpContents()).isEmpty();
    }

    @Test
    void followsRedirectsWithoutLeakingTheTokenToAnotherOrigin() throws IOException {
        byte[] bytes = minimalPackage();
        ArtifactRef direct = publish(bytes);
        ArtifactRef viaRedirect = new ArtifactRef(direct.digest(), bytes.length, URI.create(
                "http://127.0.0.1:" + server.getAddress().getPort() + "/redirect/" + direct.sha256Hex()));

        CachedArtifact a = cache(1 << 20).get(viaRedirect);

        assertThat(a.packageRoot().resolve("Manifest.json")).exists();
        assertThat(authHeaders.get(direct.sha256Hex())).isEmpty(); // the blob host got no token
        assertThat(HttpArtifactSource.sameOrigin(URI.create("https://r.example.com/a"),
                URI.create("https://R.example.com:443/b"))).isTrue();
        assertThat(HttpArtifactSource.sameOrigin(URI.create("https://r.example.com/a"),
                URI.create("http://r.example.com/a"))).isFalse();
    }

    @Test
    void acceptsManifestAtTheArchiveRoot() throws IOException {
        ArtifactRef ref = publish(zip(Map.of("Manifest.json", new byte[] {'{', '}'}, "Data/x.bin", new byte[10])));

        CachedArtifact a = cache(1 << 20).get(ref);

        assertThat(a.packageRoot().resolve("Manifest.json")).exists();
        assertThat(a.packageRoot().resolve("Data/x.bin")).exists();
    }

    @Test
    void digestMismatchLeavesNothingInTheCache() throws IOException {
        byte[] good = minimalPackage();
        String hex = sha256(good);
        byte[] tampered = zip(Map.of("Manifest.json", new byte[] {'{', ' ', '}'}));
        blobs.put(hex, tampered);
        ArtifactCache cache = cache(1 << 20);

        assertThatThrownBy(() -> cache.get(ref(hex, -1)))
                .isInstanceOf(ArtifactCacheException.class)
                .hasMessageContaining("artifact digest mismatch")
                .hasMessageContaining("expected sha256:" + hex)
                .hasMessageContaining("hash to sha256:" + sha256(tampered))
                .hasMessageContaining("nothing was cached")
                .hasMessageContaining("Two downloads gave the same bytes, so the blob the registry stores is corrupt")
                .extracting(e -> ((ArtifactCacheException) e).fault()).isEqualTo(Fault.ARTIFACT);
        assertThat(downloads).as("downloaded once more before it counts").hasValue(2);
        assertThat(cache.lookup(hex)).isEmpty();
        assertThat(entries()).isEmpty();
        assertThat(tmpContents()).isEmpty();
    }

    /** A transfer that corrupted the bytes once: the second download is good and the job goes on. */
    @Test
    void aCorruptedTransferIsDownloadedOnceMore() throws IOException {
        byte[] good = minimalPackage();
        ArtifactRef ref = publish(good);
        firstServed.put(ref.sha256Hex(), new java.util.ArrayDeque<>(List.of(withMiddleByteFlipped(good, 0x40))));

        CachedArtifact got = cache(1 << 20).get(ref);

        assertThat(got.packageRoot().resolve("Manifest.json")).hasContent("{}");
        assertThat(downloads).hasValue(2);
    }

    /** Two downloads that differ (and both mismatch) blame the transfer, not the blob. */
    @Test
    void twoDifferentMismatchesAreATransferProblem() throws IOException {
        byte[] good = minimalPackage();
        ArtifactRef ref = publish(good);
        firstServed.put(ref.sha256Hex(), new java.util.ArrayDeque<>(List.of(withMiddleByteFlipped(good, 0x01),
                withMiddleByteFlipped(good, 0x02))));

        assertThatThrownBy(() -> cache(1 << 20).get(ref))
                .isInstanceOf(ArtifactCacheException.class)
                .hasMessageContaining("Two downloads gave different bytes: the transfer is corrupting them")
                .extracting(e -> ((ArtifactCacheException) e).fault()).isEqualTo(Fault.TRANSFER);
    }

    /**
     * Whose fault each failure is: a 503, a reset connection and a body cut short are the transfer's (try again
     * later), a 404 and an invalid archive the artifact's (final), a cache it cannot write this host's.
     */
    @Test
    void everyFailureSaysWhoseFaultItIs() throws Exception {
        byte[] bytes = zip(Map.of("Manifest.json", new byte[2000]));
        String hex = sha256(bytes);
        HttpServer broken = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        broken.createContext("/503", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        broken.createContext("/short", ex -> {
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes, 0, 100);
            ex.getResponseBody().flush();
            ex.getHttpContext().getServer().stop(0); // the connection goes away mid-body
        });
        broken.start();
        String origin = "http://127.0.0.1:" + broken.getAddress().getPort();
        try {
            ArtifactCache cache = cache(1 << 20);
            assertFault(cache, new ArtifactRef(hex, bytes.length, URI.create(origin + "/503")), Fault.TRANSFER,
                    "answered HTTP 503");
            assertFault(cache, ref("ab".repeat(32), -1), Fault.ARTIFACT, "answered HTTP 404");
            assertFault(cache, publish(zip(Map.of("Data/x.bin", new byte[1]))), Fault.ARTIFACT,
                    "is not an .mlpackage archive");
            assertFault(cache, new ArtifactRef(hex, bytes.length, URI.create(origin + "/short")), Fault.TRANSFER,
                    "download of artifact sha256:" + hex + " from " + origin + "/short failed: ");
        } finally {
            broken.stop(0);
        }
        // connection refused: the server is gone
        assertFault(cache(1 << 20), new ArtifactRef(hex, bytes.length, URI.create(origin + "/503")), Fault.TRANSFER,
                "failed: ");
        // a body that ends cleanly but short of the announced size
        ArtifactRef ok = publish(bytes);
        assertFault(cache(1 << 20), ref(ok.sha256Hex(), bytes.length + 10), Fault.TRANSFER,
                "ended after " + bytes.length + " of its " + (bytes.length + 10) + " bytes");

        // this host: the cache's work directory is not a directory any more
        ArtifactCache cache = cache(1 << 20);
        Files.delete(dir.resolve("cache/tmp"));
        Files.writeString(dir.resolve("cache/tmp"), "in the way");
        assertFault(cache, ok, Fault.HOST, "cannot create a work directory in " + dir.resolve("cache/tmp"));
        assertThat(cache.writeProblem()).get().asString().startsWith("cannot write into the artifact cache ");
        Files.delete(dir.resolve("cache/tmp"));
        assertThat(cache.writeProblem()).isEmpty();
    }

    private static void assertFault(ArtifactCache cache, ArtifactRef ref, Fault fault, String message) {
        assertThatThrownBy(() -> cache.get(ref))
                .isInstanceOf(ArtifactCacheException.class)
                .hasMessageContaining(message)
                .extracting(e -> ((ArtifactCacheException) e).fault()).as("fault of " + ref.downloadUrl()).isEqualTo(fault);
    }

    /**
     * The cache is full to its cap and the next artifact would take it over: entries are evicted before the
     * download starts, not after the insert (a disk that holds the cap but not the cap plus one artifact would
     * fail the download).
     */
    @Test
    void makesRoomUnderTheCapBeforeDownloading() throws IOException {
        ArtifactRef a = publishPackageOf(1000);
        ArtifactRef b = publishPackageOf(1001);
        ArtifactRef c = publishPackageOf(1002);
        ArtifactCache cache = cache(2100); // room for two entries
        getMinutesApart(cache, a, b);
        long full = cache.sizeBytes();
        assertThat(full).isGreaterThan(2100 - c.sizeBytes());

        clock.advance(Duration.ofMinutes(1));
        cache.get(c);

        assertThat(cachedBytesAtRequest.get(2)).as("bytes cached when c's download began")
                .isLessThanOrEqualTo(2100 - c.sizeBytes());
        assertThat(cache.lookup(a.sha256Hex())).isEmpty();
        assertThat(cache.lookup(b.sha256Hex())).isPresent();
        assertThat(cache.lookup(c.sha256Hex())).isPresent();
    }

    private static long bytesUnder(Path root) {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    @Test
    void longerThanAnnouncedIsRefused() throws IOException {
        byte[] bytes = zip(Map.of("Manifest.json", new byte[100]));
        ArtifactRef ref = publish(bytes);
        ArtifactRef shortRef = ref(ref.sha256Hex(), bytes.length - 1);

        assertThatThrownBy(() -> cache(1 << 20).get(shortRef))
                .isInstanceOf(ArtifactCacheException.class)
                .hasMessageContaining("longer than the announced " + (bytes.length - 1) + " bytes");
        assertThat(entries()).isEmpty();
    }

    /** A server that sends the headers and part of the body, then stalls: the download fails, it does not hang. */
    @Test
    void aStalledDownloadTimesOut() throws Exception {
        byte[] bytes = zip(Map.of("Manifest.json", new byte[4096]));
        CountDownLatch release = new CountDownLatch(1);
        HttpServer stalling = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        stalling.setExecutor(Executors.newCachedThreadPool());
        stalling.createContext("/blobs/", ex -> {
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes, 0, 100);
            ex.getResponseBody().flush();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        stalling.start();
        try {
            URI origin = URI.create("http://127.0.0.1:" + stalling.getAddress().getPort());
            ArtifactCache cache = new ArtifactCache(dir.resolve("s"), 1L << 30,
                    new HttpArtifactSource(origin, "t", Duration.ofSeconds(1)), UnzipLimits.defaults(), clock);
            ArtifactRef ref = new ArtifactRef("sha256:" + sha256(bytes), bytes.length, URI.create(origin + "/blobs/x"));
            CompletableFuture<CachedArtifact> download = CompletableFuture.supplyAsync(() -> cache.get(ref));

            assertThatThrownBy(() -> download.get(15, TimeUnit.SECONDS))
                    .as("download with a 1 s timeout from a server that stalled mid-body")
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(ArtifactCacheException.class)
                    .hasMessageContaining("no data from " + origin + "/blobs/x for 1 s");
            try (Stream<Path> s = Files.list(dir.resolve("s/tmp"))) {
                assertThat(s.toList()).as("partial download left behind").isEmpty();
            }
        } finally {
            release.countDown();
            stalling.stop(0);
        }
    }

    /**
     * A server that trickles (1 KiB every 100 ms, never idle for the 500 ms timeout) is cut off by the minimum
     * throughput (64 KiB/s after the first 500 ms) within about a second instead of holding the job for the whole
     * download; a transfer problem, so the job goes back to the queue.
     */
    @Test
    void aTricklingDownloadIsCutOffByTheMinimumThroughput() throws Exception {
        byte[] content = new byte[200 * 1024];
        new java.util.Random(1).nextBytes(content); // incompressible: the zip stays 200 KiB
        byte[] bytes = zip(Map.of("Manifest.json", content));
        HttpServer trickling = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        trickling.setExecutor(Executors.newCachedThreadPool());
        trickling.createContext("/blobs/", ex -> {
            ex.sendResponseHeaders(200, bytes.length);
            try (var out = ex.getResponseBody()) {
                for (int i = 0; i < bytes.length; i += 1024) {
                    Thread.sleep(100);
                    out.write(bytes, i, Math.min(1024, bytes.length - i));
                    out.flush();
                }
            } catch (IOException | InterruptedException cutOff) {
                // the agent hung up
            }
        });
        trickling.start();
        try {
            URI origin = URI.create("http://127.0.0.1:" + trickling.getAddress().getPort());
            ArtifactCache cache = new ArtifactCache(dir.resolve("t"), 1L << 30,
                    new HttpArtifactSource(origin, "t", Duration.ofMillis(500), 64 * 1024), UnzipLimits.defaults(), clock);
            ArtifactRef ref = new ArtifactRef("sha256:" + sha256(bytes), bytes.length, URI.create(origin + "/blobs/x"));
            long t0 = System.nanoTime();

            assertThatThrownBy(() -> cache.get(ref))
                    .isInstanceOf(ArtifactCacheException.class)
                    .hasMessageContaining(origin + "/blobs/x sent only ")
                    .hasMessageContaining("below the minimum of 64 KiB/s after the first 500 ms")
                    .extracting(e -> ((ArtifactCacheException) e).fault()).isEqualTo(Fault.TRANSFER);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        } finally {
            trickling.stop(0);
        }
    }

    /**
     * Two agents share the cache directory and download the same artifact: the one that loses the rename
     * keeps the winner's identical entry (Linux and macOS refuse a rename onto a non-empty directory with
     * "Directory not empty", not FileAlreadyExistsException).
     */
    @Test
    void anotherProcessWinningTheRaceIsNotAnError() throws IOException {
        byte[] bytes = minimalPackage();
        ArtifactRef ref = publish(bytes);
        Path root = dir.resolve("shared");
        ArtifactCache other = new ArtifactCache(root, 1L << 30, r -> new ByteArrayInputStream(bytes),
                UnzipLimits.defaults(), clock);
        ArtifactSource racing = r -> {
            other.get(r); // the other agent process finishes the same download first
            return new ByteArrayInputStream(bytes);
        };
        ArtifactCache mine = new ArtifactCache(root, 1L << 30, racing, UnzipLimits.defaults(), clock);

        CachedArtifact got = mine.get(ref);

        assertThat(got.packageRoot().resolve("Manifest.json")).hasContent("{}");
        try (Stream<Path> s = Files.list(root.resolve("tmp"))) {
            assertThat(s.toList()).isEmpty();
        }
    }

    /** An entry directory without its package (half-removed by hand, disk trouble) is replaced, not fatal forever. */
    @Test
    void aBrokenEntryDirectoryIsReplacedNotFatal() throws IOException {
        byte[] bytes = minimalPackage();
        ArtifactRef ref = publish(bytes);
        Path entry = dir.resolve("cache/sha256").resolve(ref.sha256Hex());
        Files.createDirectories(entry.resolve("model.mlpackage/Data"));
        Files.createFile(entry.resolve(".last-used"));

        CachedArtifact got = cache(1L << 30).get(ref);

        assertThat(got.packageRoot().resolve("Manifest.json")).hasContent("{}");
        assertThat(downloads).hasValue(1);
        assertThat(tmpContents()).as("the broken entry moved aside and deleted").isEmpty();
    }

    @Test
    void httpErrorsNameTheUrlAndStatus() {
        ArtifactRef missing = ref("ab".repeat(32), -1);

        assertThatThrownBy(() -> cache(1 << 20).get(missing))
                .isInstanceOf(ArtifactCacheException.class)
                .hasMessageContaining("answered HTTP 404")
                .hasMessageContaining(missing.downloadUrl().toString());
    }

    @Test
    void refusesUnsafeArchives() throws IOException {
        ArtifactCache cache = cache(1 << 20);
        assertRefused(cache, zip(Map.of("Manifest.json", new byte[1], "../evil.txt", new byte[1])),
                "entry '../evil.txt' contains a '..' segment");
        assertRefused(cache, zip(Map.of("Manifest.json", new byte[1], "a/../../evil.txt", new byte[1])),
                "contains a '..' segment");
        assertRefused(cache, zip(Map.of("/etc/evil", new byte[1])), "entry '/etc/evil' is an absolute path");
        assertRefused(cache, zip(Map.of("C:/evil", new byte[1])), "starts with a drive letter");
        assertRefused(cache, zip(Map.of("a\\b", new byte[1])), "contains a backslash");
        assertRefused(cache, symlinked(zip(Map.of("Manifest.json", new byte[1], "Data", "/etc".getBytes()))),
                "contains symbolic link entry");
        assertRefused(cache, zip(Map.of("Data/x.bin", new byte[1])), "is not an .mlpackage archive");
        assertThat(dir.resolve("evil.txt")).doesNotExist();
        assertThat(dir.resolve("cache/evil.txt")).doesNotExist();
        assertThat(entries()).isEmpty();
        assertThat(tmpContents()).isEmpty();
    }

    @Test
    void enforcesEntryCountAndSizeLimits() throws IOException {
        ArtifactCache small = new ArtifactCache(dir.resolve("cache"), 1 << 20,
                new HttpArtifactSource(origin(), null, Duration.ofSeconds(10)), new UnzipLimits(3, 1000, 600), clock);
        Map<String, byte[]> many = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            many.put("f" + i, new byte[1]);
        }
        assertRefused(small, zip(many), "4 entries, more than the limit of 3");
        assertRefused(small, zip(Map.of("Manifest.json", new byte[601])), "unpacks to more than 600 bytes");
        assertRefused(small, zip(Map.of("Manifest.json", new byte[500], "b", new byte[501])),
                "unpacks to more than 1000 bytes");
        assertThat(entries()).isEmpty();
    }

    @Test
    void evictsLeastRecentlyUsedOverTheCap() throws IOException {
        ArtifactRef a = publishPackageOf(1000);
        ArtifactRef b = publishPackageOf(1001);
        ArtifactRef c = publishPackageOf(1002);
        ArtifactCache cache = cache(2500); // room for two entries

        getMinutesApart(cache, a, b, a, c); // a more recently used than b when c comes

        assertThat(cache.lookup(a.sha256Hex())).isPresent();
        assertThat(cache.lookup(b.sha256Hex())).isEmpty();
        assertThat(cache.lookup(c.sha256Hex())).isPresent();
        assertThat(cache.sizeBytes()).isLessThanOrEqualTo(2500);
        assertThat(downloads).hasValue(3);
    }

    @Test
    void neverEvictsTheEntryJustFetchedEvenWhenAloneOverTheCap() throws IOException {
        ArtifactRef big = publishPackageOf(5000);

        CachedArtifact got = cache(100).get(big);

        assertThat(got.packageRoot().resolve("Manifest.json")).exists();
    }

    @Test
    void rejectsMalformedDigests() {
        assertThatThrownBy(() -> new ArtifactRef("sha256:xyz", -1, URI.create("http://x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected 64 hex digits");
        assertThat(new ArtifactRef("AB".repeat(32), 1, URI.create("http://x")).sha256Hex()).isEqualTo("ab".repeat(32));
    }

    private void assertRefused(ArtifactCache cache, byte[] archive, String message) {
        ArtifactRef ref = publish(archive);
        assertThatThrownBy(() -> cache.get(ref)).isInstanceOf(ArtifactCacheException.class).hasMessageContaining(message);
        assertThat(cache.lookup(ref.sha256Hex())).isEmpty();
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("cache/sha256"))) {
            return s.toList();
        }
    }

    private List<Path> tmpContents() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("cache/tmp"))) {
            return s.toList();
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
