package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry commands against a tiny local server that stalls, breaks or answers like a proxy. */
class RegistryStallsTest {

    static final String DIGEST = "sha256:" + "ab".repeat(32);

    @TempDir
    Path dir;
    HttpServer server;
    String url;
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "stall-server");
            t.setDaemon(true);
            return t;
        }));
        // resolve answers; the blob sends 1000 of 100000 bytes and then nothing.
        server.createContext("/api/v1/models/m/resolve", ex -> json(ex, 200, "{\"model\":\"m\",\"version\":1,\"digest\":\""
                + DIGEST + "\",\"size\":100000,\"url\":\"/blob\",\"variant\":{}}"));
        server.createContext("/blob", ex -> {
            ex.sendResponseHeaders(200, 100_000);
            OutputStream o = ex.getResponseBody();
            o.write(new byte[1000]);
            o.flush();
            await();
            ex.close();
        });
        // a registry (or proxy) that trickles: its answer a byte every 100 ms, a blob 1 KiB every 100 ms
        server.createContext("/api/v1/models/trickle", ex -> {
            byte[] b = ("{\"name\":\"trickle\",\"versions\":[]" + " ".repeat(200) + "}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, b.length);
            trickle(ex, b, 1);
        });
        server.createContext("/api/v1/models/slow/resolve", ex -> json(ex, 200, "{\"model\":\"slow\",\"version\":1,"
                + "\"digest\":\"" + DIGEST + "\",\"size\":100000,\"url\":\"/slow-blob\",\"variant\":{}}"));
        server.createContext("/slow-blob", ex -> {
            ex.sendResponseHeaders(200, 100_000);
            trickle(ex, new byte[100_000], 1024);
        });
        // a registry that never answers
        server.createContext("/api/v1/models/silent", ex -> {
            await();
            ex.close();
        });
        server.createContext("/api/v1/models/proxy", ex -> {
            byte[] html = "<html><body>502 Bad Gateway</body></html>".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/html");
            ex.sendResponseHeaders(502, html.length);
            ex.getResponseBody().write(html);
            ex.close();
        });
        // a registry that takes the version, publishes it and then refuses the alias move
        server.createContext("/api/v1/models/pub", ex -> {
            ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            if (path.contains("/aliases/")) {
                json(ex, 409, "{\"type\":\"https://aneforge.io/problems/gate-not-passed\",\"detail\":\"the gate says no\"}");
            } else {
                json(ex, 200, path.endsWith("/versions") ? "{\"version\":7}" : "{}");
            }
        });
        server.createContext("/api/v1/blobs/", ex -> {
            ex.getRequestBody().readAllBytes();
            json(ex, 200, "{}");
        });
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private void await() {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends {@code body} in pieces of {@code piece} bytes, one every 100 ms, until done or the client hangs up. */
    private static void trickle(HttpExchange ex, byte[] body, int piece) {
        try (OutputStream o = ex.getResponseBody()) {
            for (int i = 0; i < body.length; i += piece) {
                Thread.sleep(100);
                o.write(body, i, Math.min(piece, body.length - i));
                o.flush();
            }
        } catch (IOException | InterruptedException gone) {
            // the client cut the body off
        }
    }

    private static void json(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    Cli run(String... args) {
        return Cli.run(Map.of("ANEFORGE_REGISTRY_URL", url, "ANEFORGE_TOKEN", "t", "ANEFORGE_REGISTRY_TIMEOUT", "1"), args);
    }


    @Test
    void aStalledDownloadTimesOutAndLeavesNothing() throws IOException {
        Path out = dir.resolve("out");
        long start = System.nanoTime();
        Cli p = run("pull", "--model", "m", "--chip", "M2", "--os", "18.0", "--out", out.toString());
        assertThat(System.nanoTime() - start).isLessThan(20_000_000_000L);
        assertThat(p.code()).as(p.toString()).isEqualTo(1);
        assertThat(p.err()).startsWith("aneforge pull: download of " + url + "/blob stalled: ")
                .contains("check the registry at " + url).endsWith("then run pull again\n");
        try (Stream<Path> left = Files.list(out)) {
            assertThat(left).isEmpty();
        }
    }

    /**
     * ANEFORGE_REGISTRY_TIMEOUT=1: an answer trickled a byte every 100 ms (never idle for 1 s, 23 s in all) fails
     * once 1 s is up; a download at 10 KiB/s, below the 16 KiB/s minimum, fails a few seconds in (it would
     * take 10 s) instead of being read to the end.
     */
    @Test
    void aTricklingRegistryIsCutOff() throws IOException {
        long start = System.nanoTime();
        Cli s = run("status", "--model", "trickle");
        assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
        assertThat(s.code()).as(s.toString()).isEqualTo(1);
        assertThat(s.err()).startsWith("aneforge status: the registry did not finish its answer to GET /api/v1/models/trickle ("
                + url + "/api/v1/models/trickle did not send its whole answer within 1 s (")
                .endsWith("check the registry at " + url + " (or raise ANEFORGE_REGISTRY_TIMEOUT), then retry\n");

        Path out = dir.resolve("out");
        start = System.nanoTime();
        Cli p = run("pull", "--model", "slow", "--chip", "M2", "--os", "18.0", "--out", out.toString());
        assertThat(System.nanoTime() - start).isLessThan(8_000_000_000L);
        assertThat(p.code()).as(p.toString()).isEqualTo(1);
        assertThat(p.err()).startsWith("aneforge pull: download of " + url + "/slow-blob stalled: " + url + "/slow-blob sent only ")
                .contains("below the minimum of 16 KiB/s after the first 1 s");
        try (Stream<Path> left = Files.list(out)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aRegistryThatNeverAnswersTimesOut() {
        long start = System.nanoTime();
        Cli s = run("status", "--model", "silent");
        assertThat(System.nanoTime() - start).isLessThan(20_000_000_000L);
        assertThat(s.code()).as(s.toString()).isEqualTo(1);
        assertThat(s.err()).isEqualTo("aneforge status: the registry at " + url + " did not answer GET /api/v1/models/silent "
                + "within 1 s: check the registry at " + url + " (or raise ANEFORGE_REGISTRY_TIMEOUT), then retry\n");
    }

    @Test
    void aFailureAfterPublishingSaysTheVersionWasPublished() throws Exception {
        Path converted = dir.resolve("converted");
        Files.createDirectories(converted);
        byte[] zip = "not really a zip".getBytes(StandardCharsets.UTF_8);
        Files.write(converted.resolve("v.zip"), zip);
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(zip));
        new io.aneforge.cli.manifest.VariantsManifest(1, new io.aneforge.cli.manifest.VariantsManifest.Model("/m", null, "bert",
                8, 1, 1, 8), new io.aneforge.cli.manifest.VariantsManifest.RecipeRef("default", "built-in", java.util.List.of()),
                8, 1, "tokenizer.json", java.util.List.of(new io.aneforge.cli.manifest.VariantEntry("v", "M2", "ios18", "ane",
                "fp16", 0, 8, 0, "v.mlpackage", "v.zip", sha, zip.length, 0, 0, null, java.util.List.of(), Map.of())), null)
                .write(converted.resolve("variants.json"));
        // a hand-written directory without golden data: published only with the explicit opt-out (review-d)
        Cli p = run("publish", "--model", "pub", "--dir", converted.toString(), "--alias", "production", "--reason", "r",
                "--without-golden-data");
        assertThat(p.code()).as(p.toString()).isEqualTo(1);
        assertThat(p.out()).contains("published version 7 of pub");
        assertThat(p.err()).startsWith("aneforge publish: version 7 of pub WAS published, but moving alias production failed ")
                .contains("the gate says no").contains("do not publish again");
    }

    @Test
    void helpWorksOnEveryRegistryCommand() {
        for (String command : new String[] {"publish", "status", "resolve", "pull"}) {
            for (String help : new String[] {"--help", "-h"}) {
                Cli c = Cli.run(Map.of(), command, help);
                assertThat(c.code()).as(c.toString()).isZero();
                assertThat(c.out()).as(c.toString()).startsWith("Usage: aneforge " + command).contains("--model");
            }
        }
        assertThat(Cli.run(Map.of(), "status", "--help").out()).contains("--version=N");
    }

    @Test
    void pullOutProblemsAreUsageErrorsInWords() throws IOException {
        Path file = Files.writeString(dir.resolve("outfile"), "x");
        Cli p = run("pull", "--model", "m", "--chip", "M2", "--os", "18.0", "--out", file.toString());
        assertThat(p.code()).as(p.toString()).isEqualTo(2);
        assertThat(p.err()).isEqualTo("aneforge pull: cannot write into --out " + file + ": it exists and is not a directory: "
                + "pass a directory you can write to\n");

        Path readOnly = Files.createDirectories(dir.resolve("ro"));
        assertThat(readOnly.toFile().setWritable(false)).isTrue();
        try {
            org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(readOnly), "running as root: permissions do not apply");
            Cli ro = run("pull", "--model", "m", "--chip", "M2", "--os", "18.0", "--out", readOnly.toString());
            assertThat(ro.code()).as(ro.toString()).isEqualTo(2);
            assertThat(ro.err()).startsWith("aneforge pull: cannot write into --out " + readOnly + ": permission denied on ")
                    .endsWith(": pass a directory you can write to\n");
        } finally {
            readOnly.toFile().setWritable(true);
        }
    }

    @Test
    void pullRemovesWhatAKilledPullLeftBehind() throws IOException {
        Path out = Files.createDirectories(dir.resolve("out"));
        Path oldPartial = Files.write(out.resolve(".pull-123.zip.partial"), new byte[10]);
        Path oldUnpack = Files.createDirectories(out.resolve(".pull-456"));
        Files.writeString(oldUnpack.resolve("Manifest.json"), "{}");
        java.nio.file.attribute.FileTime twoHoursAgo = java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(java.time.Duration.ofHours(2)));
        Files.setLastModifiedTime(oldPartial, twoHoursAgo);
        Files.setLastModifiedTime(oldUnpack, twoHoursAgo);
        Path running = Files.write(out.resolve(".pull-789.zip.partial"), new byte[10]); // another pull, still writing
        Path mine = Files.writeString(out.resolve("keep.txt"), "not ours");
        Files.setLastModifiedTime(mine, twoHoursAgo);
        Path records = Files.createDirectories(out.resolve(io.aneforge.cli.pull.PullDirectory.RECORDS));
        Path oldRecordTmp = Files.writeString(records.resolve(".record-1.tmp"), "{\"model\":"); // killed mid-write
        Files.setLastModifiedTime(oldRecordTmp, twoHoursAgo);
        Path record = Files.writeString(records.resolve("a.mlpackage.json"), "{}");
        Files.setLastModifiedTime(record, twoHoursAgo);
        Path recentRecordTmp = Files.writeString(records.resolve(".record-2.tmp"), "{"); // another pull's, just now

        Cli p = run("pull", "--model", "m", "--chip", "M2", "--os", "18.0", "--out", out.toString());
        assertThat(p.code()).as(p.toString()).isEqualTo(1); // the stalled blob
        try (Stream<Path> left = Files.list(out)) {
            assertThat(left).containsExactlyInAnyOrder(running, mine, records);
        }
        try (Stream<Path> left = Files.list(records)) {
            assertThat(left).containsExactlyInAnyOrder(record, recentRecordTmp);
        }
    }

    @Test
    void environmentAndProxyProblemsNameTheFix() {
        for (String bad : new String[] {"http:foo", "http://", "http:///x"}) {
            Cli c = Cli.run(Map.of("ANEFORGE_REGISTRY_URL", bad, "ANEFORGE_TOKEN", "t"), "status", "--model", "m");
            assertThat(c.code()).as(c.toString()).isEqualTo(2);
            assertThat(c.err()).as(c.toString()).startsWith("aneforge status: ANEFORGE_REGISTRY_URL '" + bad + "' ")
                    .contains("http://localhost:8080").hasLineCount(1);
        }
        Cli token = Cli.run(Map.of("ANEFORGE_REGISTRY_URL", url, "ANEFORGE_TOKEN", "abc\ndef-secret"), "status", "--model", "m");
        assertThat(token.code()).as(token.toString()).isEqualTo(2);
        assertThat(token.err()).startsWith("aneforge status: ANEFORGE_TOKEN holds a line break or another control character: ")
                .doesNotContain("secret").hasLineCount(1);

        Cli proxy = run("status", "--model", "proxy");
        assertThat(proxy.code()).as(proxy.toString()).isEqualTo(1);
        assertThat(proxy.err()).isEqualTo("aneforge status: registry answered HTTP 502 to GET /api/v1/models/proxy: "
                + "retry, or check the registry and any proxy in front of it\n");
    }
}
