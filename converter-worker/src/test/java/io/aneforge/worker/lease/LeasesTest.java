package io.aneforge.worker.lease;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.aneforge.worker.WorkerProperties;
import io.aneforge.worker.registry.RegistryClient;
import io.aneforge.worker.registry.RegistryModels.Conversion;
import io.aneforge.worker.registry.RegistryModels.Lease;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the worker hands leases back, against a stand-in registry over real HTTP that answers each
 * {@code /release} with the status the test queues (204 when none is queued, as a registry before V14 that does not
 * count hand-backs), or, once {@link #counting} is set, as a registry that counts them (200 with what it did).
 */
class LeasesTest {

    private HttpServer server;
    private final AtomicInteger releases = new AtomicInteger();
    private final ConcurrentLinkedQueue<Integer> answers = new ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean hang = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private Leases leases;
    /** Answer releases as a registry that counts hand-backs for trouble: past 3 of one conversion it fails it. */
    private final java.util.concurrent.atomic.AtomicBoolean counting = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.Map<String, Integer> counted = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> releaseBodies = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Answers to releases by lease request, in order; none queued: 503. */
    private final ConcurrentLinkedQueue<String> requestAnswers = new ConcurrentLinkedQueue<>();
    private final List<String> requestReleases = new java.util.concurrent.CopyOnWriteArrayList<>();
    @org.junit.jupiter.api.io.TempDir
    Path workDir;

    @BeforeEach
    void registry() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", ex -> {
            String request = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String path = ex.getRequestURI().getPath();
            if (path.endsWith("/release")) {
                releases.incrementAndGet();
                releaseBodies.add(request);
            }
            if (path.contains("/lease-requests/")) {
                requestReleases.add(path.split("/")[5]);
                String answer = requestAnswers.poll();
                byte[] body = (answer == null ? "{}" : answer).getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(answer == null ? 503 : 200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
                return;
            }
            if (counting.get() && path.endsWith("/release")) {
                int n = request.contains("\"trouble\":true") ? counted.merge(path, 1, Integer::sum)
                        : counted.getOrDefault(path, 0);
                byte[] body = ("{\"conversionId\": 7, \"outcome\": \"" + (n > 3 ? "failed" : "released")
                        + "\", \"handBacks\": " + n + ", \"maxHandBacks\": 3, \"failure\": "
                        + (n > 3 ? "\"worker 'w1' handed conversion 7 back " + n + " times\"" : "null") + "}")
                        .getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
                return;
            }
            if (hang.get()) {
                try {
                    stopped.await(); // never answers while the test runs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ex.close();
                return;
            }
            Integer queued = answers.poll();
            int status = queued == null ? 204 : queued;
            if (status == 204) {
                ex.sendResponseHeaders(204, -1);
            } else {
                byte[] body = ("{\"type\": \"https://aneforge.io/problems/" + (status == 409 ? "lease-lost" : "x")
                        + "\", \"detail\": \"status " + status + "\"}").getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "application/problem+json");
                ex.sendResponseHeaders(status, body.length);
                ex.getResponseBody().write(body);
            }
            ex.close();
        });
        server.start();
        RegistryClient client = new RegistryClient(new WorkerProperties(
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "token", "w1", 1, Path.of("unused"),
                Duration.ofSeconds(1), false, Duration.ofSeconds(5), Duration.ofSeconds(5), 2, Duration.ofMillis(10)));
        leases = new Leases(client, Duration.ofMillis(500), workDir, "w1");
    }

    @AfterEach
    void stop() {
        stopped.countDown();
        leases.stop();
        server.stop(0);
    }

    private static Lease lease(long id) {
        return new Lease("token-" + id, 60, new Conversion(id, "m", 1, null, "running", null, List.of(), null, 32, null, null, 1, 3,
                null, null, null, null, List.of()));
    }

    @Test
    void oneProcessHandsAConversionBackAtMostMaxHandBacksTimesEvenAcrossRefusals() {
        for (int i = 0; i < Leases.MAX_UNCOUNTED_HAND_BACKS; i++) {
            leases.hold(lease(7));
            assertThat(leases.handBackWhenDone(7, "registry unreachable", false)).as("hand-back " + (i + 1)).isTrue();
            assertThat(leases.end(7)).isTrue();
        }
        assertThat(releases.get()).isEqualTo(Leases.MAX_UNCOUNTED_HAND_BACKS);
        // The refused hand-back must not reset the count: the lease runs out (an attempt), and the next lease
        // of the same conversion in this process is refused a hand-back again.
        for (int i = 0; i < 3; i++) {
            leases.hold(lease(7));
            assertThat(leases.handBackWhenDone(7, "registry unreachable", false)).as("refused " + (i + 1)).isFalse();
            assertThat(leases.end(7)).isFalse();
        }
        assertThat(releases.get()).as("no release past the bound").isEqualTo(Leases.MAX_UNCOUNTED_HAND_BACKS);

        // Another conversion has its own count; a stopping worker always hands back.
        leases.hold(lease(8));
        assertThat(leases.handBackWhenDone(8, "registry unreachable", false)).isTrue();
        assertThat(leases.end(8)).isTrue();
        leases.hold(lease(7));
        assertThat(leases.handBackWhenDone(7, "the worker is shutting down", true)).isTrue();

        // The conversion really ended (completed or failed in the registry): the count starts over.
        leases.end(7);
        leases.finished(7);
        leases.hold(lease(7));
        assertThat(leases.handBackWhenDone(7, "registry unreachable", false)).isTrue();
    }

    /**
     * A registry that counts hand-backs keeps the bound: the worker hands the conversion back past its own fallback
     * bound (every hand-back for trouble says so; a stopping worker's release does not), and when the registry
     * answers that it failed the conversion instead, the lease is not taken back ({@code end} is false).
     */
    @Test
    void aRegistryThatCountsHandBacksKeepsTheBoundAndItsFailureIsFollowed() {
        counting.set(true);
        for (int i = 1; i <= Leases.MAX_UNCOUNTED_HAND_BACKS; i++) {
            leases.hold(lease(7));
            assertThat(leases.handBackWhenDone(7, "registry unreachable " + i, false)).isTrue();
            assertThat(leases.end(7)).as("hand-back " + i).isTrue();
        }
        leases.hold(lease(7));
        assertThat(leases.handBackWhenDone(7, "the worker is shutting down", true)).isTrue();
        assertThat(leases.end(7)).isTrue();
        leases.hold(lease(7));
        assertThat(leases.handBackWhenDone(7, "registry unreachable 4", false))
                .as("no bound of the worker's own against a registry that counts").isTrue();
        assertThat(leases.end(7)).as("the registry failed the conversion instead").isFalse();
        assertThat(releaseBodies).hasSize(5);
        assertThat(releaseBodies.get(0)).contains("\"trouble\":true", "registry unreachable 1");
        assertThat(releaseBodies.get(3)).as("a stopping worker's release is not trouble").contains("\"trouble\":false");
        assertThat(releaseBodies.get(4)).contains("\"trouble\":true", "registry unreachable 4");
    }

    /**
     * Releases by lease request: one that finds nothing before the call's grant window closed is sent once more after
     * it (and the runner does not lease while the window is open), and then releases the conversion granted late.
     * Time is passed in, so the 10 s window costs the test nothing and a slow machine cannot close it early.
     */
    @Test
    void aReleaseByRequestIsSentAgainAfterTheGrantWindow() {
        requestAnswers.add("{\"request\":\"r1\",\"conversionId\":null,\"released\":false,\"outcome\":\"none\"}");
        java.time.Instant windowEnd = java.time.Instant.now().plusSeconds(10);
        leases.releaseLeaseRequest("r1", "lost the answer", windowEnd);
        assertThat(requestReleases).containsExactly("r1");
        assertThat(leases.openGrantWindow(windowEnd.minusSeconds(5))).as("no lease before the window closed")
                .contains(windowEnd);
        leases.releaseLeaseRequests(windowEnd.minusSeconds(5));
        assertThat(requestReleases).as("not again before the window closed").containsExactly("r1");
        assertThat(leases.openGrantWindow(windowEnd.plusMillis(1))).isEmpty();
        requestAnswers.add("{\"request\":\"r1\",\"conversionId\":7,\"released\":true,\"outcome\":\"released\"}");
        leases.releaseLeaseRequests(windowEnd.plusMillis(1));
        assertThat(requestReleases).containsExactly("r1", "r1");
        assertThat(leases.pendingLeaseRequests()).isZero();
    }

    /**
     * During an outage (every release answered 503 through the client's retries) a release by lease request is tried
     * once per pause that doubles, not once per poll, also when later lost calls add releases of their own, and is
     * kept until a lease granted late would have run out (the grant window plus the lease duration), then given up.
     */
    @Test
    void duringAnOutageAReleaseByRequestBacksOffAndIsKeptForTheLeaseDuration() {
        java.time.Instant start = java.time.Instant.now();
        java.time.Instant windowEnd = start.plusSeconds(5);
        leases.releaseLeaseRequest("real", "lost the answer", windowEnd); // try 1: fails, due again in 1 s
        assertThat(requestReleases).hasSize(3).containsOnly("real");
        for (int poll = 1; poll <= 3; poll++) {
            leases.releaseLeaseRequests(start.plusMillis(100 * poll)); // polls within the pause: not due
            leases.releaseLeaseRequest("refused-" + poll, "lost the answer", windowEnd); // sends only its own
        }
        assertThat(requestReleases).filteredOn("real"::equals).as("one try so far").hasSize(3);
        assertThat(leases.pendingLeaseRequests()).isEqualTo(4);

        // The pauses double (1, 2, 4, 8, 16, 30 s): polled every second, 'real' is tried on few of them only.
        requestReleases.clear();
        for (int second = 1; second <= 60; second++) leases.releaseLeaseRequests(start.plusSeconds(second));
        long realTries = requestReleases.stream().filter("real"::equals).count() / 3;
        assertThat(realTries).as("tries of 'real' in a minute of polls").isBetween(3L, 7L);
        assertThat(leases.pendingLeaseRequests()).as("kept: a late grant could still be held").isEqualTo(4);

        for (int second = 61; second <= 120; second++) leases.releaseLeaseRequests(start.plusSeconds(second));
        assertThat(leases.pendingLeaseRequests()).as("given up once a late grant ran out (window + 60 s lease)")
                .isZero();
    }

    /**
     * A release by lease request that did not get through (the registry answering 503) is recorded in the work
     * directory; a worker started afterwards on that directory (a new {@link Leases}: nothing in memory) takes it up
     * and sends it, under the worker id of the lease call, before it leases, then deletes the record. A record that
     * does not parse is moved aside and one older than a day dropped, without stopping the others.
     */
    @Test
    void aReleaseByRequestThatDidNotGetThroughIsSentByTheNextWorkerOnTheWorkDirectory() throws Exception {
        java.time.Instant now = java.time.Instant.now();
        leases.releaseLeaseRequest("lost-1", "lost the answer", now.minusSeconds(1)); // 503 through the retries
        assertThat(leases.pendingLeaseRequests()).isEqualTo(1);
        Path dir = workDir.resolve(UnreleasedLeases.DIR);
        assertThat(requestFiles(dir)).hasSize(1);
        leases.stop();

        UnreleasedLeases records = new UnreleasedLeases(workDir);
        assertThat(records.record(new UnreleasedLeases.UnreleasedRequest("ancient", "w0", "lost", now.minusSeconds(90000),
                now.minusSeconds(90000)))).isTrue();
        java.nio.file.Files.writeString(dir.resolve("request-broken.json"), "{\"request\":");
        requestReleases.clear();
        List<String> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
        server.removeContext("/");
        server.createContext("/", ex -> {
            bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            requestReleases.add(ex.getRequestURI().getPath().split("/")[5]);
            byte[] b = "{\"request\":\"lost-1\",\"conversionId\":7,\"released\":true,\"outcome\":\"released\"}"
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        RegistryClient client = new RegistryClient(new WorkerProperties(
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "token", "w2", 1, Path.of("unused"),
                Duration.ofSeconds(1), false, Duration.ofSeconds(5), Duration.ofSeconds(5), 2, Duration.ofMillis(10)));
        leases = new Leases(client, Duration.ofMillis(500), workDir, "w2");
        assertThat(leases.loadLeaseRequests()).as("only the readable, young record").isEqualTo(1);
        leases.releaseLeaseRequests();
        assertThat(requestReleases).containsExactly("lost-1");
        assertThat(bodies).singleElement().asString().contains("\"worker\":\"w1\"", "lost the answer");
        assertThat(leases.pendingLeaseRequests()).isZero();
        assertThat(requestFiles(dir)).as("sent, so deleted; the old one dropped; the unreadable one set aside")
                .containsExactly("request-broken.json.unreadable");
    }

    private static List<String> requestFiles(Path dir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("request-")).toList();
        }
    }

    /** A registry 500 or a 401 (a rotated token) keeps the release for another try; a 400 or 404 drops it. */
    @Test
    void aReleaseByRequestIsDroppedOnlyOnADefinitiveRefusal() throws Exception {
        server.removeContext("/");
        java.util.Queue<Integer> statuses = new ConcurrentLinkedQueue<>(List.of(500, 401, 403, 404));
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            requestReleases.add(ex.getRequestURI().getPath().split("/")[5]);
            byte[] b = "{\"type\":\"https://aneforge.io/problems/x\",\"detail\":\"no\"}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/problem+json");
            ex.sendResponseHeaders(statuses.poll(), b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        java.time.Instant start = java.time.Instant.now();
        leases.releaseLeaseRequest("r", "lost the answer", start); // 500
        assertThat(leases.pendingLeaseRequests()).as("kept after a 500").isEqualTo(1);
        leases.releaseLeaseRequests(start.plusSeconds(2)); // 401 (the pause after the 500 was 1 s)
        assertThat(leases.pendingLeaseRequests()).as("kept after a 401").isEqualTo(1);
        leases.releaseLeaseRequests(start.plusSeconds(5)); // 403 (2 s)
        assertThat(leases.pendingLeaseRequests()).as("kept after a 403").isEqualTo(1);
        leases.releaseLeaseRequests(start.plusSeconds(10)); // 404 (4 s)
        assertThat(leases.pendingLeaseRequests()).as("dropped on a 404").isZero();
        assertThat(requestReleases).as("refusals are not retried by the client").hasSize(4);
    }

    @Test
    void aStoppingWorkerReleasesOnceWithinItsShortBound() {
        // The registry answers 503: a running worker retries (one call and two retries here) ...
        answers.addAll(List.of(503, 503, 503));
        leases.hold(lease(7));
        assertThat(leases.handBackWhenDone(7, "registry unreachable", false)).isTrue();
        assertThat(leases.end(7)).isFalse();
        assertThat(releases.get()).isEqualTo(3);

        // ... a stopping one sends the release once.
        releases.set(0);
        answers.clear();
        answers.addAll(List.of(503, 503, 503));
        leases.hold(lease(8));
        assertThat(leases.handBackWhenDone(8, "the worker is shutting down", true)).isTrue();
        assertThat(leases.end(8)).isFalse();
        assertThat(releases.get()).as("not retried at shutdown").isEqualTo(1);

        // A registry that never answers holds a stopping worker for the short bound, not the 5 s request timeout.
        releases.set(0);
        answers.clear();
        hang.set(true);
        leases.hold(lease(9));
        leases.handBackWhenDone(9, "the worker is shutting down", true);
        long start = System.nanoTime();
        assertThat(leases.end(9)).isFalse();
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(ms).as("the 500 ms shutdown bound").isLessThan(2500);
        assertThat(releases.get()).isEqualTo(1);
    }

    @Test
    void aRetriedReleaseRefusedAsLeaseLostIsNotReportedAsRunningOut() {
        // The first try's answer is lost (503 here); the repeat finds the lease no longer this worker's.
        answers.addAll(List.of(503, 409));
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Leases.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            leases.hold(lease(7));
            assertThat(leases.handBackWhenDone(7, "registry unreachable", false)).isTrue();
            assertThat(leases.end(7)).isFalse();
        } finally {
            logger.detachAppender(logged);
        }
        assertThat(releases.get()).isEqualTo(2);
        List<String> messages = logged.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
        assertThat(messages).noneMatch(m -> m.contains("runs out"));
        assertThat(messages).anyMatch(m -> m.contains("no longer this worker's") && m.contains("may have gone through")
                && m.contains("on try 2 of this release"));
    }
    /**
     * A recorded release (the stopping worker's one release failed) is dropped only when the registry took it or
     * says the lease is gone (409): a 401 after a token rotation or a 404 from an older registry keeps it for the
     * next try, logged once per status. A record older than MAX_RECORD_AGE is dropped unsent.
     */
    @Test
    void aRecordedReleaseIsKeptThroughRefusalsThatSayNothingAboutTheLeaseAndDroppedWhenGoneOrTooOld() throws Exception {
        Path record = workDir.resolve(UnreleasedLeases.DIR).resolve("conversion-7.json");
        answers.add(503);
        leases.hold(lease(7));
        assertThat(leases.handBackWhenDone(7, "the worker is shutting down", true)).isTrue();
        assertThat(leases.end(7)).isFalse();
        assertThat(record).exists();

        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Leases.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            releases.set(0);
            answers.addAll(List.of(401, 401, 404));
            for (int i = 0; i < 3; i++) {
                assertThat(leases.releaseRecorded()).isZero();
                assertThat(record).as("kept after refusal " + (i + 1)).exists();
            }
            answers.add(409);
            assertThat(leases.releaseRecorded()).isZero();
            assertThat(record).as("lease-lost drops it").doesNotExist();
            assertThat(releases.get()).isEqualTo(4);
        } finally {
            logger.detachAppender(logged);
        }
        List<String> warned = logged.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
        assertThat(warned).filteredOn(m -> m.contains("refuses the recorded release")).as("once per status").hasSize(2);

        // A record of a day ago (a token never fixed, say) is dropped without sending it.
        answers.add(503);
        leases.hold(lease(8));
        assertThat(leases.handBackWhenDone(8, "the worker is shutting down", true)).isTrue();
        assertThat(leases.end(8)).isFalse();
        Path old = workDir.resolve(UnreleasedLeases.DIR).resolve("conversion-8.json");
        assertThat(old).exists();
        java.nio.file.Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(Leases.MAX_RECORD_AGE).minusSeconds(60)));
        releases.set(0);
        assertThat(leases.releaseRecorded()).isZero();
        assertThat(old).doesNotExist();
        assertThat(releases.get()).as("not sent").isZero();
    }

    /**
     * A rolling update: the record a worker before the {@code trouble} field wrote is read (as not trouble) and sent,
     * not deleted unsent; a record that does not parse at all is moved aside, not deleted.
     */
    @Test
    void aRecordWrittenByAnOlderWorkerIsSentAndAnUnreadableOneIsMovedAside() throws Exception {
        Path dir = java.nio.file.Files.createDirectories(workDir.resolve(UnreleasedLeases.DIR));
        Path old = dir.resolve("conversion-7.json");
        java.nio.file.Files.writeString(old,
                "{\"conversionId\":7,\"leaseToken\":\"token-7\",\"reason\":\"the worker is shutting down\"}");
        Path garbage = dir.resolve("conversion-8.json");
        java.nio.file.Files.writeString(garbage, "{\"conversionId\":8,\"leaseTok");

        assertThat(new UnreleasedLeases(workDir).recorded()).singleElement()
                .satisfies(u -> assertThat(u.trouble()).isFalse());
        assertThat(garbage).doesNotExist();
        assertThat(dir.resolve("conversion-8.json.unreadable")).hasContent("{\"conversionId\":8,\"leaseTok");

        assertThat(leases.releaseRecorded()).isEqualTo(1);
        assertThat(releaseBodies).singleElement().asString().contains("\"leaseToken\":\"token-7\"",
                "\"trouble\":false");
        assertThat(old).doesNotExist();
    }
}
