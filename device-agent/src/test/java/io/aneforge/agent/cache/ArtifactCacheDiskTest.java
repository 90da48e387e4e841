package io.aneforge.agent.cache;

import static io.aneforge.testsupport.archives.Zips.zip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache on a real small disk: a 600 KiB tmpfs mounted for the test (needs root; skipped elsewhere), artifacts
 * of incompressible bytes from a real HTTP server.
 */
class ArtifactCacheDiskTest {

    private static final int KIB = 1024;

    @TempDir
    Path dir;

    private Path disk;
    private boolean mounted;
    private HttpServer server;
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    private final AtomicInteger downloads = new AtomicInteger();
    private final Random random = new Random(7);

    @BeforeEach
    void mountAndServe() throws Exception {
        disk = Files.createDirectories(dir.resolve("disk"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", disk.toString())
                .redirectErrorStream(true).start();
        boolean done = p.waitFor(10, TimeUnit.SECONDS);
        mounted = done && p.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "mounting a small tmpfs needs root: " + new String(p.getInputStream().readAllBytes()));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/blobs/", ex -> {
            byte[] body = blobs.get(ex.getRequestURI().getPath().substring("/blobs/".length()));
            downloads.incrementAndGet();
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void unmount() throws Exception {
        if (server != null) {
            server.stop(0);
        }
        if (mounted) {
            new ProcessBuilder("umount", disk.toString()).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private ArtifactCache cache(long cap) {
        URI origin = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        return new ArtifactCache(disk.resolve("cache"), cap, new HttpArtifactSource(origin, "t", Duration.ofSeconds(10)),
                UnzipLimits.defaults(), Clock.systemUTC());
    }

    /** An artifact of {@code kib} KiB of random bytes (a zip does not shrink them). */
    private ArtifactRef artifact(int kib) {
        byte[] content = new byte[kib * KIB];
        random.nextBytes(content);
        byte[] bytes = zip(Map.of("Manifest.json", content));
        String hex = ArtifactCacheTest.sha256(bytes);
        blobs.put(hex, bytes);
        return new ArtifactRef(hex, bytes.length,
                URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/blobs/" + hex));
    }

    /**
     * The disk holds the 400 KiB cap (two 180 KiB artifacts) but not the cap plus the third artifact and its archive:
     * evicting only after a successful insert failed that download with "No space left on device".
     */
    @Test
    void aDiskThatHoldsTheCapButNotOneMoreArtifactStillTakesIt() throws IOException {
        ArtifactCache cache = cache(400 * KIB);
        ArtifactRef a = artifact(180);
        ArtifactRef b = artifact(180);
        ArtifactRef c = artifact(180);
        cache.get(a);
        cache.get(b);
        assertThat(Files.getFileStore(disk).getUsableSpace()).as("free before c").isLessThan(2 * c.sizeBytes());

        CachedArtifact got = cache.get(c);

        assertThat(Files.size(got.packageRoot().resolve("Manifest.json"))).isEqualTo(180 * KIB);
        assertThat(cache.lookup(a.sha256Hex())).as("least recently used, evicted first").isEmpty();
        assertThat(cache.lookup(b.sha256Hex())).isPresent();
    }

    /** Under a large cap the disk decides: entries are evicted beyond the cap to make room on it. */
    @Test
    void evictsBeyondTheCapWhenTheDiskNeedsIt() {
        ArtifactCache cache = cache(1L << 30);
        ArtifactRef a = artifact(200);
        ArtifactRef big = artifact(250);
        cache.get(a);

        cache.get(big);

        assertThat(cache.lookup(a.sha256Hex())).isEmpty();
        assertThat(cache.lookup(big.sha256Hex())).isPresent();
    }

    /** An artifact the disk cannot hold even when empty is this host's problem, found before downloading it. */
    @Test
    void anArtifactTooBigForTheDiskIsHostTroubleNotTheArtifacts() {
        ArtifactCache cache = cache(1L << 30);
        ArtifactRef huge = artifact(400);

        assertThatThrownBy(() -> cache.get(huge))
                .isInstanceOf(ArtifactCacheException.class)
                .hasMessageStartingWith("not enough disk space for artifact " + huge.digest())
                .hasMessageContaining("set aneforge.agent.cache.dir to a bigger one")
                .extracting(e -> ((ArtifactCacheException) e).fault()).isEqualTo(Fault.HOST);
        assertThat(downloads).hasValue(0);
    }

    /**
     * A disk that fills up while the artifact is unpacked (the size was not announced, so nothing could be checked
     * before): host trouble, not the artifact's; the probe the agent uses before taking jobs again sees the disk.
     */
    @Test
    void aDiskFillingUpWhileUnpackingIsHostTrouble() throws IOException {
        ArtifactCache cache = cache(1L << 30);
        ArtifactRef a = artifact(200);
        ArtifactRef unannounced = new ArtifactRef(a.sha256Hex(), -1, a.downloadUrl());
        Files.write(disk.resolve("filler"), new byte[300 * KIB]); // another program's file

        assertThatThrownBy(() -> cache.get(unannounced))
                .isInstanceOf(ArtifactCacheException.class)
                .hasMessageContaining("the disk is full")
                .extracting(e -> ((ArtifactCacheException) e).fault()).isEqualTo(Fault.HOST);
        assertThat(cache.writeProblem()).as("64 KiB still fit").isEmpty();
        Files.write(disk.resolve("filler2"), new byte[290 * KIB]);
        assertThat(cache.writeProblem()).get().asString().contains("the disk is full");
    }
}
