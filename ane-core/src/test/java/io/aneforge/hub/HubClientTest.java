package io.aneforge.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.source.ModelSource;
import io.aneforge.source.WeightsFormat;
import io.aneforge.testsupport.hub.FakeHub;
import io.aneforge.testsupport.hub.FakeHub.Fault;
import io.aneforge.testsupport.models.TinyModels;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubClientTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String PR_COMMIT = "fedcba9876543210fedcba9876543210fedcba98";
    static final String TOKEN = "hf_test_token";

    @TempDir
    Path tmp;
    FakeHub hub;
    Path cache;
    Map<String, byte[]> files;

    @BeforeEach
    void start() throws IOException {
        hub = FakeHub.start();
        cache = tmp.resolve("hub-cache");
        Path model = TinyModels.bert(tmp.resolve("tiny"), 11);
        files = new LinkedHashMap<>();
        for (String f : List.of("config.json", "tokenizer.json", "model.safetensors")) {
            files.put(f, Files.readAllBytes(model.resolve(f)));
        }
        files.put("README.md", "# tiny".getBytes(StandardCharsets.UTF_8));
        hub.repo("acme/tiny-bert").commit(COMMIT, "main", files);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubConfig config(String token, boolean offline) {
        return new HubConfig(URI.create(hub.endpoint()), cache, token, offline, Duration.ofSeconds(5),
                Duration.ofSeconds(20), 3, Duration.ofMillis(5));
    }

    HttpHubClient client() {
        return new HttpHubClient(config(TOKEN, false));
    }

    /**
     * Revisions, repo ids and file names come from users, the registry and the Hub's file list; none may make the
     * cache write or read outside its directory ({@code refs/} + an absolute revision wrote the commit there).
     */
    @Test
    void namesCannotLeadOutsideTheCache() throws Exception {
        Path outside = tmp.resolve("outside");
        HttpHubClient client = client();
        for (String revision : List.of(outside.toString(), "../../../outside", "refs/../../x", ".git", "a//b")) {
            assertThatThrownBy(() -> client.modelInfo("acme/tiny-bert", revision)).as(revision)
                    .isInstanceOf(HubException.class).hasMessageStartingWith("invalid revision '" + revision + "': ")
                    .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.REVISION_NOT_FOUND);
            assertThatThrownBy(() -> client.download("acme/tiny-bert", revision, "config.json")).as(revision)
                    .isInstanceOf(HubException.class).hasMessageStartingWith("invalid revision '");
            assertThatThrownBy(() -> client.cache().writeRef("acme/tiny-bert", revision, COMMIT)).as(revision)
                    .isInstanceOf(HubException.class);
            assertThatThrownBy(() -> client.cache().commitOf("acme/tiny-bert", revision)).as(revision)
                    .isInstanceOf(HubException.class);
        }
        for (String repo : List.of("acme/../x", "a--b/c", "acme/x-")) {
            assertThatThrownBy(() -> client.modelInfo(repo, "main")).as(repo).isInstanceOf(HubException.class)
                    .hasMessageStartingWith("invalid repo id '" + repo + "'");
        }
        assertThatThrownBy(() -> client.cache().snapshot("acme/tiny-bert", COMMIT, "../../../../outside"))
                .isInstanceOf(HubException.class).hasMessageContaining("would lie outside");
        assertThatThrownBy(() -> client.cache().snapshot("acme/tiny-bert", "../x", "config.json"))
                .isInstanceOf(HubException.class).hasMessageContaining("would lie outside");
        assertThatThrownBy(() -> client.cache().writeRef("acme/tiny-bert", "main", "not-a-commit"))
                .isInstanceOf(HubException.class);
        assertThat(outside).doesNotExist();
        assertThat(tmp.resolve("x")).doesNotExist();
        // the valid spellings still work
        assertThat(client.modelInfo("acme/tiny-bert", "main").commit()).isEqualTo(COMMIT);
        assertThat(client.cache().commitOf("acme/tiny-bert", "main")).contains(COMMIT);
    }

    @Test
    void downloadsAPinnedSnapshotInThePythonCacheLayout() throws Exception {
        ModelSnapshot snap = ModelSource.open("hf:acme/tiny-bert", client());
        assertThat(snap.commit()).isEqualTo(COMMIT);
        assertThat(snap.format()).isEqualTo(WeightsFormat.SAFETENSORS);
        Path repo = cache.resolve("models--acme--tiny-bert");
        assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(COMMIT);
        Path weights = repo.resolve("snapshots/" + COMMIT + "/model.safetensors");
        assertThat(Files.isSymbolicLink(weights)).isTrue();
        String sha256 = FakeHub.sha256(files.get("model.safetensors"));
        assertThat(Files.readSymbolicLink(weights).toString()).isEqualTo("../../blobs/" + sha256);
        assertThat(Files.readAllBytes(repo.resolve("blobs/" + sha256))).isEqualTo(files.get("model.safetensors"));
        assertThat(repo.resolve("blobs/" + FakeHub.gitBlobSha1(files.get("config.json")))).exists();
        // Only what conversion needs: no README.
        assertThat(repo.resolve("snapshots/" + COMMIT + "/README.md")).doesNotExist();

        // The token went to the Hub, never to the CDN host; the LFS file came from the CDN.
        List<FakeHub.Request> cdn = hub.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertThat(cdn).hasSize(1).allMatch(r -> r.authorization() == null);
        assertThat(hub.requests().stream().filter(r -> r.server().equals("hub")))
                .allMatch(r -> ("Bearer " + TOKEN).equals(r.authorization()));

        // A second open is served from the cache: no content download at all.
        hub.clearRequests();
        assertThat(ModelSource.open("hf:acme/tiny-bert@" + COMMIT, client()).directory())
                .isEqualTo(snap.directory());
        assertThat(hub.requests()).noneMatch(r -> r.method().equals("GET") && !r.path().startsWith("/api/"));
    }

    @Test
    void prRevisionIsUrlEncodedAndPinned() throws Exception {
        hub.repo("acme/tiny-bert").commit(PR_COMMIT, "refs/pr/1", files);
        RepoInfo info = client().modelInfo("acme/tiny-bert", "refs/pr/1");
        assertThat(info.commit()).isEqualTo(PR_COMMIT);
        assertThat(hub.requests()).anyMatch(r -> r.path().contains("/revision/refs%2Fpr%2F1"));
        assertThat(Files.readString(cache.resolve("models--acme--tiny-bert/refs/refs/pr/1"))).isEqualTo(PR_COMMIT);
    }

    @Test
    void privateGatedMissingAndUnknownRevisionGiveDistinctErrors() throws Exception {
        hub.repo("acme/secret").commit(COMMIT, "main", files).privateRepo("owner-token");
        hub.repo("acme/gated").commit(COMMIT, "main", files).gated("accepted-token");
        assertThatThrownBy(() -> client().modelInfo("acme/secret", "main")).isInstanceOf(HubException.class)
                .hasMessageContaining("repo not found or private: acme/secret")
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.REPO_NOT_FOUND_OR_PRIVATE);
        assertThat(new HttpHubClient(config("owner-token", false)).modelInfo("acme/secret", "main").commit())
                .isEqualTo(COMMIT);
        assertThatThrownBy(() -> client().download("acme/gated", "main", "config.json"))
                .hasMessageContaining("gated: acme/gated requires accepting its terms")
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.GATED);
        assertThatThrownBy(() -> client().modelInfo("acme/nope", "main"))
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.REPO_NOT_FOUND_OR_PRIVATE);
        assertThatThrownBy(() -> client().modelInfo("acme/tiny-bert", "v9"))
                .hasMessageContaining("revision not found: 'v9'")
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.REVISION_NOT_FOUND);
        assertThatThrownBy(() -> client().download("acme/tiny-bert", "main", "vocab.txt"))
                .hasMessageContaining("file not found")
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.ENTRY_NOT_FOUND);
        assertThat(cache.resolve("models--acme--tiny-bert/.no_exist/" + COMMIT + "/vocab.txt")).exists();
    }

    @Test
    void droppedConnectionMidFileIsResumedWithRange() throws Exception {
        hub.fault("model.safetensors", Fault.DROP_MID_FILE);
        Path p = client().download("acme/tiny-bert", "main", "model.safetensors");
        assertThat(Files.readAllBytes(p)).isEqualTo(files.get("model.safetensors"));
        List<FakeHub.Request> cdn = hub.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertThat(cdn).hasSize(2);
        assertThat(cdn.get(0).range()).isNull();
        // Resumes from what actually arrived before the drop (at most the half the server sent).
        assertThat(cdn.get(1).range()).matches("bytes=\\d+-");
        long resumedAt = Long.parseLong(cdn.get(1).range().replaceAll("\\D", ""));
        assertThat(resumedAt).isPositive().isLessThanOrEqualTo(files.get("model.safetensors").length / 2);
    }

    @Test
    void serverErrorIsRetried() throws Exception {
        hub.fault("model.safetensors", Fault.SERVER_ERROR);
        Path p = client().download("acme/tiny-bert", "main", "model.safetensors");
        assertThat(Files.readAllBytes(p)).isEqualTo(files.get("model.safetensors"));
    }

    /**
     * A Hub (or CDN, or proxy) that announces a 1000-byte file, then sends the headers and 100 bytes and stalls
     * until {@code release}, sends an endless chunked body far past the announced size, or trickles one byte every
     * 300 ms.
     */
    enum Misbehaviour { STALL, ENDLESS, TRICKLE }

    static HttpServer misbehavingHub(Misbehaviour mode, AtomicLong sent, CountDownLatch release, CountDownLatch finished)
            throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.setExecutor(Executors.newCachedThreadPool());
        s.createContext("/", ex -> {
            ex.getResponseHeaders().add("X-Repo-Commit", COMMIT);
            ex.getResponseHeaders().add("ETag", "\"" + "2".repeat(64) + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", "1000");
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
                ex.close();
                return;
            }
            if (mode == Misbehaviour.TRICKLE) {
                ex.sendResponseHeaders(200, 1000);
                try {
                    for (int i = 0; i < 1000; i++) {
                        ex.getResponseBody().write(0);
                        ex.getResponseBody().flush();
                        Thread.sleep(300);
                    }
                } catch (IOException | InterruptedException clientHungUp) {
                    // expected once the client gives up
                }
            } else if (mode == Misbehaviour.STALL) {
                ex.sendResponseHeaders(200, 1000);
                ex.getResponseBody().write(new byte[100]);
                ex.getResponseBody().flush();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else {
                ex.sendResponseHeaders(200, 0); // chunked
                OutputStream out = ex.getResponseBody();
                byte[] mb = new byte[1 << 20];
                try {
                    for (int i = 0; i < 64; i++) {
                        out.write(mb);
                        sent.addAndGet(mb.length);
                    }
                } catch (IOException clientHungUp) {
                    // expected once the client stops reading
                }
            }
            ex.close();
            finished.countDown();
        });
        s.start();
        return s;
    }

    /** {@code model.safetensors} of org/m, downloaded on a daemon thread (a test must not hang on a hung download). */
    static Future<Path> downloadInBackground(HttpHubClient hub) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }).submit(() -> hub.download("org/m", "main", "model.safetensors"));
    }

    HttpHubClient client(HttpServer s) {
        return new HttpHubClient(new HubConfig(URI.create("http://127.0.0.1:" + s.getAddress().getPort()), cache,
                null, false, Duration.ofSeconds(1), Duration.ofSeconds(1), 0, Duration.ofMillis(10)));
    }

    @Test
    void aStalledHubBodyTimesOut() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HttpServer s = misbehavingHub(Misbehaviour.STALL, new AtomicLong(), release, new CountDownLatch(1));
        try {
            Future<Path> download = downloadInBackground(client(s));

            assertThatThrownBy(() -> download.get(15, TimeUnit.SECONDS))
                    .as("Hub download with requestTimeout 1 s from a server that stalled mid-body")
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(HubException.class)
                    .hasMessageContaining("no data from http://127.0.0.1:" + s.getAddress().getPort()
                            + "/org/m/resolve/main/model.safetensors for 1 s");
        } finally {
            release.countDown();
            s.stop(0);
        }
    }

    /**
     * A server that sends one byte every 300 ms: never idle for the 1 s request timeout, so only the download's
     * minimum average throughput ({@link HttpHubClient#MIN_DOWNLOAD_RATE} after the first second) cuts it off;
     * with the idle rule alone the 1000 announced bytes would take five minutes.
     */
    @Test
    void aTricklingHubBodyIsCutOffByTheMinimumThroughput() throws Exception {
        HttpServer s = misbehavingHub(Misbehaviour.TRICKLE, new AtomicLong(), new CountDownLatch(0), new CountDownLatch(1));
        try {
            Future<Path> download = downloadInBackground(client(s));

            assertThatThrownBy(() -> download.get(20, TimeUnit.SECONDS))
                    .as("Hub download with requestTimeout 1 s from a server trickling a byte every 300 ms")
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(HubException.class)
                    .hasMessageContaining("below the minimum of 64 KiB/s after the first 1 s");
            // the bytes that did arrive stay in blobs/<etag>.incomplete for a resumed download, as after a stall
        } finally {
            s.stop(0);
        }
    }

    @Test
    void aBodyLongerThanTheAnnouncedSizeIsCutOff() throws Exception {
        AtomicLong sent = new AtomicLong();
        CountDownLatch finished = new CountDownLatch(1);
        HttpServer s = misbehavingHub(Misbehaviour.ENDLESS, sent, new CountDownLatch(0), finished);
        try {
            assertThatThrownBy(() -> client(s).download("org/m", "main", "model.safetensors"))
                    .isInstanceOf(HubException.class)
                    .hasMessageContaining("longer than the announced 1000 bytes")
                    .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.INTEGRITY);
            // What the server got rid of includes the socket buffers (megabytes on loopback), so the bound is
            // loose: without the cut-off the client would read all 64 MiB before checking the size.
            assertThat(finished.await(15, TimeUnit.SECONDS)).as("server done sending").isTrue();
            assertThat(sent.get()).as("bytes the server sent for a file announced as 1000 bytes")
                    .isLessThan(32L << 20);
            try (Stream<Path> files = Files.walk(cache)) {
                assertThat(files.filter(Files::isRegularFile).map(Path::toString).toList())
                        .as("partial download left in the cache").noneMatch(f -> f.endsWith(".incomplete"));
            }
        } finally {
            s.stop(0);
        }
    }

    @Test
    void corruptedBodyFailsSha256AndLeavesNothingBehind() throws Exception {
        hub.fault("model.safetensors", Fault.CORRUPT_BODY);
        assertThatThrownBy(() -> client().download("acme/tiny-bert", "main", "model.safetensors"))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("integrity failure for acme/tiny-bert:model.safetensors: sha256")
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.INTEGRITY);
        Path blobs = cache.resolve("models--acme--tiny-bert/blobs");
        try (Stream<Path> s = Files.list(blobs)) {
            assertThat(s.toList()).isEmpty();
        }
        // The next attempt (no fault) succeeds.
        assertThat(Files.readAllBytes(client().download("acme/tiny-bert", "main", "model.safetensors")))
                .isEqualTo(files.get("model.safetensors"));
    }

    @Test
    void offlineModeServesTheCacheAndNeverConnects() throws Exception {
        ModelSnapshot online = ModelSource.open("hf:acme/tiny-bert", client());
        hub.clearRequests();
        HttpHubClient offline = new HttpHubClient(config(TOKEN, true));
        ModelSnapshot snap = ModelSource.open("hf:acme/tiny-bert", offline);
        assertThat(snap.commit()).isEqualTo(online.commit());
        assertThat(snap.weights()).isEqualTo(online.weights());
        assertThatThrownBy(() -> offline.download("acme/tiny-bert", "main", "README.md"))
                .hasMessageContaining("HF_HUB_OFFLINE=1 and acme/tiny-bert@main:README.md is not in the cache")
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.OFFLINE_NOT_CACHED);
        assertThatThrownBy(() -> ModelSource.open("hf:acme/other", offline))
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.OFFLINE_NOT_CACHED);
        assertThat(hub.requests()).isEmpty();
    }

    @Test
    void unreachableHubIsNoNetwork() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HttpHubClient dead = new HttpHubClient(new HubConfig(URI.create("http://127.0.0.1:" + port), cache, null,
                false, Duration.ofSeconds(2), Duration.ofSeconds(2), 1, Duration.ofMillis(5)));
        assertThatThrownBy(() -> dead.modelInfo("acme/tiny-bert", "main"))
                .hasMessageContaining("cannot reach http://127.0.0.1:" + port)
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.NO_NETWORK);
    }

    @Test
    void concurrentDownloadsOfTheSameFileShareOneTransfer() throws Exception {
        byte[] big = new byte[3 << 20];
        new Random(5).nextBytes(big);
        hub.repo("acme/big").commit(COMMIT, "main", Map.of("model.safetensors", big));
        hub.downloadDelayMillis(5);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Callable<Path> task = () -> client().download("acme/big", "main", "model.safetensors");
                results.add(pool.submit(task));
            }
            for (Future<Path> f : results) {
                assertThat(Files.readAllBytes(f.get(60, TimeUnit.SECONDS))).isEqualTo(big);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(hub.requests().stream().filter(r -> r.server().equals("cdn")).count()).isEqualTo(1);
        try (Stream<Path> s = Files.list(cache.resolve("models--acme--big/blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly(FakeHub.sha256(big));
        }
    }

    @Test
    void concurrentDownloadFromAnotherProcessDoesNotCorruptTheBlob() throws Exception {
        byte[] big = new byte[3 << 20];
        new Random(9).nextBytes(big);
        hub.repo("acme/big").commit(COMMIT, "main", Map.of("model.safetensors", big));
        hub.downloadDelayMillis(10);
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), DownloadMain.class.getName(), hub.endpoint(),
                cache.toString(), "acme/big", "model.safetensors")
                .redirectErrorStream(true).start();
        Path mine = client().download("acme/big", "main", "model.safetensors");
        assertThat(child.waitFor(90, TimeUnit.SECONDS)).isTrue();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as(out).isZero();
        assertThat(Files.readAllBytes(mine)).isEqualTo(big);
        assertThat(Files.readAllBytes(Path.of(out.strip().lines().reduce((a, b) -> b).orElseThrow()))).isEqualTo(big);
        try (Stream<Path> s = Files.list(cache.resolve("models--acme--big/blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly(FakeHub.sha256(big));
        }
    }

    /** Entry point of the second process in the cross-process test. */
    public static final class DownloadMain {
        public static void main(String[] args) throws Exception {
            HubConfig c = new HubConfig(URI.create(args[0]), Path.of(args[1]), null, false, Duration.ofSeconds(5),
                    Duration.ofSeconds(30), 3, Duration.ofMillis(5));
            System.out.println(new HttpHubClient(c).download(args[2], "main", args[3]));
        }
    }
}
