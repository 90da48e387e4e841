package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.agent.loop.JobExecutor;
import io.aneforge.agent.loop.TransientJobException;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.agent.registry.JobLease;
import io.aneforge.agent.registry.JobReport;
import io.aneforge.testsupport.http.ForwardingProxy;
import io.aneforge.testsupport.http.ForwardingProxy.Answer;
import io.aneforge.testsupport.http.ForwardingProxy.Request;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Hand-backs of agent leases against the real registry over HTTP: a lease whose answer the agent cannot read at
 * all (no ids in it) is released by the request id the agent sent with the call, only by that agent; a call whose
 * request was released before anything was granted gets nothing when it arrives (V15); hand-backs
 * for trouble are counted per job and agent by the registry, which fails the job past
 * {@code aneforge.jobs.max-hand-backs} (2 by default); that count survives an agent restart, and so does a release
 * the registry could not be reached for (kept in the agent's cache directory).
 */
class HandBackTest extends JobTestSupport {

    /** One coreml benchmark job on {@code chip} (cpuOnly); the accuracy job needs reference-cpu, which no agent here offers. */
    private int oneJob(String model, String chip) {
        return leasableVariant(model, chip, 8, List.of("cpuOnly")).version();
    }

    /** As {@link #oneJob}, without golden data yet: the job exists but is not ready to lease. */
    private int oneJobNotReady(String model, String chip) {
        return newVersionWithVariant(model, chip, 8, List.of("cpuOnly")).version();
    }

    /** Leases with the request id {@code request} until it gets a job of {@code model}, releasing others' leftovers. */
    private JsonNode leaseOf(String agent, String model, String request) {
        return leaseReleasingOthers(agent, model, () -> "request=" + request);
    }

    private Response releaseRequest(String agent, String request) {
        return send("POST", "/api/v1/agents/" + agent + "/lease-requests/" + request + "/release", agentToken(),
                Map.of("reason", "lease answer not understood"));
    }

    private Response release(String agent, JsonNode lease, boolean trouble, String reason) {
        return send("POST", "/api/v1/agents/" + agent + "/jobs/" + lease.path("jobId").asLong() + "/release", agentToken(),
                Map.of("leaseId", lease.path("leaseId").asString(), "reason", reason, "trouble", trouble));
    }

    @Test
    void aLeaseIsReleasedByTheRequestItWasGrantedForOnlyByItsAgent() {
        int v = oneJob("hb-request", "A18");
        String a = registerAgent("hb-request-a", "A18", List.of("coreml"));
        String b = registerAgent("hb-request-b", "A18", List.of("coreml"));
        String request = UUID.randomUUID().toString();
        leaseOf(a, "hb-request", request);
        assertThat(benchmarkJob("hb-request", v).path("state").asString()).isEqualTo("leased");

        Response other = releaseRequest(b, request);
        assertThat(other.status()).as(other.text()).isEqualTo(200);
        assertThat(other.json().path("outcome").asString()).as("another agent naming the request").isEqualTo("none");
        Response wrong = releaseRequest(a, UUID.randomUUID().toString());
        assertThat(wrong.json().path("outcome").asString()).as("another request of the same agent").isEqualTo("none");
        assertThat(benchmarkJob("hb-request", v).path("state").asString()).isEqualTo("leased");

        Response mine = releaseRequest(a, request);
        assertThat(mine.status()).as(mine.text()).isEqualTo(200);
        assertThat(mine.json().path("outcome").asString()).isEqualTo("released");
        assertThat(mine.json().path("jobId").asLong()).isEqualTo(benchmarkJob("hb-request", v).path("id").asLong());
        assertThat(mine.json().path("handBacks").asInt()).as("counted like trouble").isEqualTo(1);
        JsonNode job = benchmarkJob("hb-request", v);
        assertThat(job.path("state").asString()).isEqualTo("pending");
        assertThat(job.path("attempts").asInt()).as("no attempt spent").isZero();
        assertThat(releaseRequest(a, request).json().path("outcome").asString()).as("a repeat").isEqualTo("none");

        Response bad = send("POST", "/api/v1/agents/" + a + "/lease-requests/not-a-uuid/release", agentToken(), Map.of());
        assertThat(bad.status()).as(bad.text()).isEqualTo(400);
    }

    /**
     * A release by request that finds nothing (the lease call has not reached the registry yet, or waits in its long
     * poll) is remembered, and the call then grants nothing: here a long poll that is waiting when the release
     * arrives and wakes when the job becomes ready answers 204, and so does a later call with that request; the job
     * stays pending with no attempt spent. Another request of the same agent, and the same request id of another
     * agent, still get the job.
     */
    @Test
    void aLeaseCallReleasedBeforeItsGrantGetsNothing() throws Exception {
        int v = oneJobNotReady("hb-refused", "A15");
        String a = registerAgent("hb-refused-a", "A15", List.of("coreml"));
        String b = registerAgent("hb-refused-b", "A15", List.of("coreml"));
        String request = UUID.randomUUID().toString();
        var pool = Executors.newSingleThreadExecutor();
        try {
            // The lost call: waits in its long poll (up to 4 s) while the job is not ready.
            var call = pool.submit(() -> send("POST", "/api/v1/agents/" + a + "/lease?wait=4&request=" + request,
                    agentToken(), null));
            Thread.sleep(300);
            Response first = releaseRequest(a, request);
            assertThat(first.status()).as(first.text()).isEqualTo(200);
            assertThat(first.json().path("outcome").asString()).isEqualTo("none");
            setGolden("hb-refused", v); // wakes the long poll: the job is ready now
            Response late = call.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(late.status()).as("the long poll woken after the release: " + late.text()).isEqualTo(204);
        } finally {
            pool.shutdownNow();
        }
        JsonNode job = benchmarkJob("hb-refused", v);
        assertThat(job.path("state").asString()).isEqualTo("pending");
        assertThat(job.path("attempts").asInt()).as("no attempt spent").isZero();

        Response again = send("POST", "/api/v1/agents/" + a + "/lease?request=" + request, agentToken(), null);
        assertThat(again.status()).as("a later call with the released request: " + again.text()).isEqualTo(204);
        assertThat(benchmarkJob("hb-refused", v).path("attempts").asInt()).isZero();
        Response second = releaseRequest(a, request);
        assertThat(second.json().path("outcome").asString()).as("the client's second release").isEqualTo("none");

        JsonNode other = leaseOf(b, "hb-refused", request);
        assertThat(other.path("jobId").asLong()).as("another agent with the same request id")
                .isEqualTo(job.path("id").asLong());
        assertThat(other.path("attempt").asInt()).isEqualTo(1);
        assertThat(release(b, other, false, "test").json().path("outcome").asString()).isEqualTo("released");

        JsonNode mine = leaseOf(a, "hb-refused", UUID.randomUUID().toString());
        assertThat(mine.path("jobId").asLong()).as("another request of the same agent").isEqualTo(job.path("id").asLong());
        assertThat(release(a, mine, false, "test").json().path("outcome").asString()).isEqualTo("released");
    }

    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    @org.springframework.beans.factory.annotation.Autowired
    io.aneforge.registry.leaserequest.ReleasedLeaseRequests releasedRequests;

    /** Records older than a day are purged; younger ones stay and still refuse their grant. */
    @Test
    void releasedRequestsArePurgedAfterADay() {
        oneJob("hb-purge", "A14");
        String a = registerAgent("hb-purge-a", "A14", List.of("coreml"));
        String old = UUID.randomUUID().toString();
        String young = UUID.randomUUID().toString();
        assertThat(releaseRequest(a, old).json().path("outcome").asString()).isEqualTo("none");
        assertThat(releaseRequest(a, young).json().path("outcome").asString()).isEqualTo("none");
        jdbc.sql("UPDATE released_lease_request SET released_at = now() - interval '25 hours' WHERE request = ?")
                .param(UUID.fromString(old)).update();
        jdbc.sql("UPDATE released_lease_request SET released_at = now() - interval '23 hours' WHERE request = ?")
                .param(UUID.fromString(young)).update();

        assertThat(releasedRequests.purge()).isGreaterThanOrEqualTo(1);
        assertThat(jdbc.sql("SELECT request::text FROM released_lease_request WHERE owner = ?").param(a)
                .query(String.class).list()).containsExactly(young);
        Response refused = send("POST", "/api/v1/agents/" + a + "/lease?request=" + young, agentToken(), null);
        assertThat(refused.status()).as(refused.text()).isEqualTo(204);
        JsonNode granted = leaseOf(a, "hb-purge", old);
        assertThat(granted.path("attempt").asInt()).as("a purged record refuses nothing").isEqualTo(1);
    }

    @Test
    void handBacksForTroubleAreCountedPerJobAndAgentAndFailTheJobPastTheBound() {
        int v = oneJob("hb-count", "A18_PRO");
        String a = registerAgent("hb-count-a", "A18_PRO", List.of("coreml"));
        String b = registerAgent("hb-count-b", "A18_PRO", List.of("coreml"));
        for (int i = 1; i <= 2; i++) {
            Response r = release(a, leaseOf(a, "hb-count", UUID.randomUUID().toString()), true, "HTTP 503 " + i);
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.json().path("outcome").asString()).isEqualTo("released");
            assertThat(r.json().path("handBacks").asInt()).isEqualTo(i);
            assertThat(r.json().path("maxHandBacks").asInt()).isEqualTo(2);
        }
        // Not counted: a release without trouble (a draining agent); another agent's trouble has its own count.
        assertThat(release(a, leaseOf(a, "hb-count", UUID.randomUUID().toString()), false, "draining").json()
                .path("handBacks").asInt()).isZero();
        assertThat(release(b, leaseOf(b, "hb-count", UUID.randomUUID().toString()), true, "disk full").json()
                .path("handBacks").asInt()).isEqualTo(1);
        JsonNode job = benchmarkJob("hb-count", v);
        assertThat(job.path("state").asString()).isEqualTo("pending");
        assertThat(job.path("attempts").asInt()).isZero();

        Response third = release(a, leaseOf(a, "hb-count", UUID.randomUUID().toString()), true, "HTTP 503 3");
        assertThat(third.status()).as(third.text()).isEqualTo(200);
        assertThat(third.json().path("outcome").asString()).isEqualTo("failed");
        String failure = third.json().path("failure").asString();
        assertThat(failure).startsWith("agent hb-count-a could not run job " + job.path("id").asLong() + " 3 times")
                .contains("max-hand-backs allows 2", "the last: HTTP 503 3");
        job = benchmarkJob("hb-count", v);
        assertThat(job.path("state").asString()).isEqualTo("failed");
        assertThat(job.path("failureReason").asString()).isEqualTo(failure);
        assertThat(results("hb-count", v)).singleElement().satisfies(r -> {
            assertThat(r.path("outcome").asString()).isEqualTo("failed");
            assertThat(r.path("failure").asString()).isEqualTo(failure);
        });
    }

    private static HostFacts host(String name, String chip) {
        return new HostFacts(name, "macOS", "15.1", "24B83", "arm64", "Apple " + chip, 16L << 30, chip, List.of("coreml"));
    }

    private HttpRegistryClient client(String url) {
        return new HttpRegistryClient(URI.create(url), agentToken(), Duration.ofSeconds(30));
    }

    /**
     * The real agent loop: two hand-backs for trouble, then the agent restarts (a new process: nothing in memory);
     * its first hand-back after the restart is the third, and the registry fails the job. Counted in the agent's
     * memory, the restarted agent would have run the job three more times.
     */
    @Test
    void theHandBackCountSurvivesAnAgentRestart() {
        int v = oneJob("hb-restart", "A17_PRO");
        HostFacts h = host("hb-restart-host", "A17_PRO");
        String url = "http://127.0.0.1:" + port;
        AtomicInteger before = new AtomicInteger();
        JobExecutor first = new JobExecutor() {
            @Override
            public JobReport execute(JobLease lease) {
                if (!lease.model().equals("hb-restart")) return AgentFleetTest.fakeReport(lease, h);
                // The second time as host trouble that never clears: this agent leases nothing more until halted.
                int n = before.incrementAndGet();
                throw new TransientJobException("artifact download answered HTTP 503 (" + n + ")", n >= 2, null);
            }

            @Override
            public Optional<String> hostProblem() {
                return Optional.of("the disk stays full");
            }
        };
        AgentLoop loop = new AgentLoop(client(url), h, first, Duration.ofMillis(200), Duration.ofMillis(20));
        loop.start();
        waitFor(() -> before.get() >= 2 && benchmarkJob("hb-restart", v).path("state").asString().equals("pending"),
                "two hand-backs before the restart");
        loop.halt();

        AtomicInteger after = new AtomicInteger();
        AgentLoop restarted = new AgentLoop(client(url), h, lease -> {
            if (!lease.model().equals("hb-restart")) return AgentFleetTest.fakeReport(lease, h);
            throw new TransientJobException("artifact download answered HTTP 503 (after restart " + after.incrementAndGet()
                    + ")", false, null);
        }, Duration.ofMillis(200), Duration.ofMillis(20));
        restarted.start();
        try (Cleanup drained = () -> haltAndDrain(restarted)) {
            waitFor(() -> benchmarkJob("hb-restart", v).path("state").asString().equals("failed"), "the job failed");
        }
        JsonNode job = benchmarkJob("hb-restart", v);
        assertThat(after).as("the restarted agent ran the job once: its hand-back was the third").hasValue(1);
        assertThat(job.path("failureReason").asString())
                .startsWith("agent hb-restart-host could not run job " + job.path("id").asLong() + " 3 times")
                .contains("the last: agent hb-restart-host: artifact download answered HTTP 503 (after restart 1)");
        assertThat(job.path("attempts").asInt()).as("no attempt spent by a hand-back").isEqualTo(1);
    }

    /**
     * A proxy between the agent and the registry replaces the registry's lease answers for this test's job with an
     * HTML page (status 200): the agent learns no lease or job id. It releases the lease by the request id it sent,
     * so the lease never expires; the third time the registry fails the job naming the unreadable answer, on its
     * first attempt. Left to expire (2 s leases here), the job would have failed as "lease expired on attempt 3 of 3".
     */
    @Test
    void aLeaseAnswerWithNoIdsInItIsReleasedNotLeftToExpire() throws Exception {
        int v = oneJob("hb-html", "A16");
        HtmlProxy proxy = new HtmlProxy("http://127.0.0.1:" + port, "hb-html");
        HostFacts h = host("hb-html-host", "A16");
        AgentLoop loop = new AgentLoop(client(proxy.url()), h, lease -> AgentFleetTest.fakeReport(lease, h),
                Duration.ofMillis(200), Duration.ofMillis(20));
        loop.start();
        try (proxy; Cleanup drained = () -> haltAndDrain(loop)) {
            waitFor(() -> benchmarkJob("hb-html", v).path("state").asString().equals("failed"), "the job failed");
        }
        JsonNode job = benchmarkJob("hb-html", v);
        assertThat(proxy.replaced).as("lease answers replaced by HTML").hasValue(3);
        assertThat(proxy.requestReleases).hasSize(3)
                .allSatisfy(s -> assertThat(s).as("released by request, answered 200").endsWith(" 200"));
        assertThat(job.path("failureReason").asString()).contains("3 times",
                "could not read the registry's lease answer", "<html>maintenance</html>");
        assertThat(job.path("attempts").asInt()).as("no lease expired").isEqualTo(1);
    }

    /**
     * A lease granted by the registry whose answer the proxy cuts off (the connection closed instead): the agent
     * releases the lease by the request id it sent, at once, so the job is pending again without an attempt spent,
     * and runs it again as the same attempt. Left to expire (2 s leases here), the rerun would be the next attempt.
     */
    @Test
    void aLeaseWhoseAnswerIsLostInTransportIsReleasedByItsRequest() throws Exception {
        oneJob("hb-reset", "A18");
        LostAnswerProxy proxy = new LostAnswerProxy("http://127.0.0.1:" + port, false);
        AgentLoop loop = runThroughProxy(proxy, host("hb-reset-host", "A18"),
                () -> proxy.lost.get() != null && succeededAsLeased(proxy.lost.get()), "the job whose answer was lost succeeded");
        JsonNode lost = proxy.lost.get();
        assertThat(proxy.requestReleases).as("released at once by the request id the lost call carried")
                .first().asString().startsWith("/api/v1/agents/" + loop.agentId() + "/lease-requests/" + proxy.lostRequest
                        + "/release 200").contains("\"outcome\":\"released\"", "\"jobId\":" + lost.path("jobId").asLong());
        assertRanAgainAsTheSameAttempt(lost);
    }

    /**
     * A lease call the proxy holds until after the agent gave up on it (its 1 s timeout) and after the agent's first
     * release by request arrived, which finds nothing ({@code none}); the agent does not lease again meanwhile, and
     * sends its second release once the call's grant window closed (the wait and the timeout after the failure). The
     * proxy lets the registry see the held call only when that second release arrives. The registry remembered the
     * first release, so it grants that call nothing (204) and the second release finds nothing either; the job is
     * leased by the agent's next call and succeeds on its first attempt. (Before V15 the late call was granted and the
     * second release handed it back; an agent still does that against an older registry.)
     */
    @Test
    void aLeaseCallArrivingAfterItsFirstReleaseIsGrantedNothing() throws Exception {
        int v = oneJob("hb-late", "A18_PRO");
        LostAnswerProxy proxy = new LostAnswerProxy("http://127.0.0.1:" + port, true);
        AgentLoop loop = runThroughProxy(proxy, host("hb-late-host", "A18_PRO"),
                () -> succeeded("hb-late", v), "the job succeeded");
        assertThat(proxy.lateStatus).as("the late call, refused by the registry").isEqualTo(204);
        assertThat(proxy.lost.get()).as("nothing granted for it").isNull();
        String path = "/api/v1/agents/" + loop.agentId() + "/lease-requests/" + proxy.lostRequest + "/release 200";
        assertThat(proxy.requestReleases).as("the first release before the late call, the second after it").hasSize(2)
                .allSatisfy(r -> assertThat(r).startsWith(path).contains("\"outcome\":\"none\""));
        JsonNode job = benchmarkJob("hb-late", v);
        assertThat(job.path("attempts").asInt()).as("one attempt: the late call spent none").isEqualTo(1);
        assertThat(results("hb-late", v).valueStream().toList()).singleElement()
                .satisfies(r -> assertThat(r.path("attempt").asInt()).isEqualTo(1));
    }

    /**
     * The registry cannot be reached when the agent hands a job back (a proxy in front of it answers every job release
     * 503): the agent keeps the release in its cache directory, then crashes. A new agent on that cache directory (a
     * restart, with the registry reachable) sends the kept release before it leases anything: the job is back in the
     * queue at once and runs again as the same attempt. In memory only, the restart would have lost the release and
     * the lease run out (an attempt).
     */
    @Test
    void aReleaseThatDidNotGetThroughIsSentByTheRestartedAgent(@org.junit.jupiter.api.io.TempDir java.nio.file.Path cache)
            throws Exception {
        crashWithAnUnsentReleaseAndRestart(cache, "hb-unsent", "M3", false);
    }

    /**
     * As {@link #aReleaseThatDidNotGetThroughIsSentByTheRestartedAgent} for a release by request: the proxy loses the
     * answer to the lease call that gets the job (the connection closed instead) and answers the release by request
     * 503 too; the restarted agent sends that release (the request id it kept) before it leases.
     */
    @Test
    void aReleaseByRequestThatDidNotGetThroughIsSentByTheRestartedAgent(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path cache) throws Exception {
        crashWithAnUnsentReleaseAndRestart(cache, "hb-unsent-req", "M2", true);
    }

    /**
     * An agent on {@code cache} through a {@link ReleaseRefusingProxy} gets the job of {@code model}, cannot release it
     * (by its lease after trouble, or by request after {@code loseTheAnswer}), keeps the release and crashes; a new
     * agent on {@code cache}, straight to the registry, must hand the job back and run it as the same attempt. The test
     * keeps the lease alive meanwhile (heartbeats in the crashed agent's name, standing in for the 5 min of a real lease
     * against the 2 s here), so only the kept release can have handed the job back.
     */
    private void crashWithAnUnsentReleaseAndRestart(java.nio.file.Path cache, String model, String chip,
            boolean loseTheAnswer) throws Exception {
        int v = oneJob(model, chip);
        HostFacts h = host(model + "-host", chip);
        String url = "http://127.0.0.1:" + port;
        ReleaseRefusingProxy proxy = new ReleaseRefusingProxy(url, loseTheAnswer ? model : null);
        AgentLoop first = new AgentLoop(client(proxy.url()), h, lease -> {
            if (!lease.model().equals(model)) return AgentFleetTest.fakeReport(lease, h);
            proxy.leaseId.set(lease.leaseId());
            proxy.attempt.set(lease.attempt());
            throw new TransientJobException("artifact download answered HTTP 503", false, null);
        }, Duration.ofMillis(200), Duration.ofMillis(20), cache);
        java.util.concurrent.ScheduledExecutorService keepAlive = Executors.newSingleThreadScheduledExecutor();
        java.nio.file.Path kept = cache.resolve("unsent-releases");
        String prefix = loseTheAnswer ? "request-" : "lease-";
        // Closed in reverse: heartbeats stop, then the crashed agent halts, then the proxy closes.
        try (proxy; Cleanup halted = first::halt; Cleanup beatsStopped = keepAlive::shutdownNow) {
            first.start();
            waitFor(() -> proxy.leaseId.get() != null, "the job leased");
            String agent = first.agentId();
            String leaseId = proxy.leaseId.get();
            keepAlive.scheduleWithFixedDelay(() -> {
                try {
                    send("POST", "/api/v1/agents/" + agent + "/heartbeat", agentToken(), Map.of("leaseIds", List.of(leaseId)));
                } catch (RuntimeException e) {
                    // the next beat tries again (an exception would end the schedule, and the lease with it)
                }
            }, 0, 300, java.util.concurrent.TimeUnit.MILLISECONDS);
            waitFor(() -> proxy.refused.get() > 0 && files(kept).stream().anyMatch(f -> f.startsWith(prefix)),
                    "the release refused and kept");
            haltAndDrain(first);
            waitFor(() -> !first.isRunning(), "the crashed agent's thread ended");
            // A long poll of the crashed agent still waiting in the registry (200 ms) must end before the restarted
            // agent re-registers (ending the drain) and releases the job, or it could take the job and lose it.
            Thread.sleep(500);
            proxy.close();
            assertThat(benchmarkJob(model, v).path("state").asString()).as("still leased: no release got through")
                    .isEqualTo("leased");

            AgentLoop restarted = new AgentLoop(client(url), h, lease -> AgentFleetTest.fakeReport(lease, h),
                    Duration.ofMillis(200), Duration.ofMillis(20), cache);
            restarted.start();
            try (Cleanup drained = () -> haltAndDrain(restarted)) {
                waitFor(() -> succeeded(model, v), "the job succeeded");
                assertThat(files(kept)).as("delivered, so forgotten").isEmpty();
            }
        }
        JsonNode job = benchmarkJob(model, v);
        assertThat(job.path("attempts").asInt()).as("no attempt spent: released, not expired").isEqualTo(1);
        assertThat(results(model, v).valueStream().toList()).singleElement()
                .satisfies(r -> assertThat(r.path("attempt").asInt()).isEqualTo(proxy.attempt.get()));
    }

    private static List<String> files(java.nio.file.Path dir) {
        if (!java.nio.file.Files.isDirectory(dir)) return List.of();
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Runs an agent on {@code h} through {@code proxy} (1 s request timeout, 100 ms lease wait, 20 ms backoff) until
     * {@code done} ({@code what} names it in a timeout); then halts the agent and closes the proxy. Returns the halted
     * loop, whose agent id the releases name.
     */
    private AgentLoop runThroughProxy(LostAnswerProxy proxy, HostFacts h, BooleanSupplier done, String what) {
        AgentLoop loop = new AgentLoop(new HttpRegistryClient(URI.create(proxy.url()), agentToken(), Duration.ofSeconds(1)),
                h, lease -> AgentFleetTest.fakeReport(lease, h), Duration.ofMillis(100), Duration.ofMillis(20));
        loop.start();
        try (proxy; Cleanup drained = () -> haltAndDrain(loop)) {
            waitFor(done, what);
        }
        return loop;
    }

    /** Whether the job of {@code lease} has a succeeded result. */
    private boolean succeededAsLeased(JsonNode lease) {
        return results(lease.path("model").asString(), lease.path("version").asInt()).valueStream()
                .anyMatch(r -> r.path("jobId").asLong() == lease.path("jobId").asLong()
                        && r.path("outcome").asString().equals("succeeded"));
    }

    /** The job of a lease the agent never read ran again on the same attempt: the lease was released, not expired. */
    private void assertRanAgainAsTheSameAttempt(JsonNode lost) {
        long jobId = lost.path("jobId").asLong();
        assertThat(results(lost.path("model").asString(), lost.path("version").asInt()).valueStream()
                .filter(r -> r.path("jobId").asLong() == jobId).toList()).singleElement()
                .satisfies(r -> assertThat(r.path("attempt").asInt()).as("no attempt spent on the lost lease")
                        .isEqualTo(lost.path("attempt").asInt()));
    }

    /**
     * Forwards everything to the registry, but loses the answer of one lease call the registry grants, recorded in
     * {@link #lost} with its request id: either the first lease the registry grants, whose connection is closed
     * instead of answered (as a reset), or ({@code late}) the first lease call, held back until the agent gave up on it
     * and its first release by that request has been answered, and only then sent to the registry. Lease calls that
     * come meanwhile wait for it, so they cannot take its job first. Every release by request is recorded with its
     * status and answer.
     */
    private static final class LostAnswerProxy extends RegistryProxy {
        final java.util.concurrent.atomic.AtomicReference<JsonNode> lost = new java.util.concurrent.atomic.AtomicReference<>();
        volatile String lostRequest;
        /** The registry's status for the held ({@code late}) call, once it was let through. */
        volatile int lateStatus;
        final List<String> requestReleases = new CopyOnWriteArrayList<>();
        private final boolean late;
        private final java.util.concurrent.atomic.AtomicBoolean faulted = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.concurrent.CountDownLatch firstReleaseAnswered = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CountDownLatch lateCallDone = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CountDownLatch secondReleaseArrived = new java.util.concurrent.CountDownLatch(1);

        LostAnswerProxy(String target, boolean late) throws IOException {
            this.late = late;
            start(target);
        }

        @Override
        Optional<Answer> exchange(Request request, ForwardingProxy.Upstream registry)
                throws IOException, InterruptedException {
            String path = request.uri().getPath();
            boolean lease = path.endsWith("/lease");
            if (lease && late && faulted.compareAndSet(false, true)) {
                lostRequest = requestIdOf(request.uri());
                // Held past the agent's timeout and its first release, until its second release arrives (after
                // the grant window); then the registry sees it and grants it, just before that release goes on.
                // So the 2 s test lease cannot expire before the release however slow the machine: no timing.
                firstReleaseAnswered.await(30, java.util.concurrent.TimeUnit.SECONDS);
                secondReleaseArrived.await(30, java.util.concurrent.TimeUnit.SECONDS);
                Answer r = registry.forward(request);
                lateStatus = r.status();
                if (r.status() == 200) lost.set(JSON.readTree(r.body()));
                lateCallDone.countDown();
                return Optional.empty(); // the agent is long gone
            }
            if (lease && late) lateCallDone.await(30, java.util.concurrent.TimeUnit.SECONDS);
            if (late && lostRequest != null && path.contains("/lease-requests/" + lostRequest + "/")
                    && firstReleaseAnswered.getCount() == 0) {
                secondReleaseArrived.countDown();
                lateCallDone.await(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            Answer r = registry.forward(request);
            if (lease && !late && r.status() == 200 && faulted.compareAndSet(false, true)) {
                lostRequest = requestIdOf(request.uri());
                lost.set(JSON.readTree(r.body()));
                return Optional.empty(); // granted, but the answer never arrives
            }
            if (path.contains("/lease-requests/")) {
                requestReleases.add(path + " " + r.status() + " " + r.text());
                firstReleaseAnswered.countDown();
            }
            return Optional.of(r);
        }

        @Override
        public void close() {
            firstReleaseAnswered.countDown();
            secondReleaseArrived.countDown();
            lateCallDone.countDown();
            super.close();
        }
    }

    /**
     * Forwards everything to the registry but job releases, which it answers 503 with a page: the registry is down.
     * With {@code loseLeaseOf}, it also closes the connection instead of answering the first lease granted for a job of
     * that model (recording its lease id and attempt), and answers releases by request 503 too.
     */
    private static final class ReleaseRefusingProxy extends RegistryProxy {
        final AtomicInteger refused = new AtomicInteger();
        /** The lease of the job, once granted (by the proxy when it lost the answer, else by the agent's executor). */
        final java.util.concurrent.atomic.AtomicReference<String> leaseId = new java.util.concurrent.atomic.AtomicReference<>();
        final AtomicInteger attempt = new AtomicInteger();
        private final String loseLeaseOf;

        ReleaseRefusingProxy(String target, String loseLeaseOf) throws IOException {
            this.loseLeaseOf = loseLeaseOf;
            start(target);
        }

        @Override
        Optional<Answer> exchange(Request request, ForwardingProxy.Upstream registry)
                throws IOException, InterruptedException {
            String path = request.uri().getPath();
            if ((path.contains("/jobs/") && path.endsWith("/release"))
                    || (loseLeaseOf != null && path.contains("/lease-requests/"))) {
                refused.incrementAndGet();
                return Optional.of(Answer.html(503, "<html>503 Service Unavailable</html>"));
            }
            Answer r = registry.forward(request);
            if (loseLeaseOf != null && path.endsWith("/lease") && r.status() == 200 && leaseId.get() == null) {
                JsonNode lease = JSON.readTree(r.body());
                if (lease.path("model").asString().equals(loseLeaseOf)) {
                    attempt.set(lease.path("attempt").asInt());
                    leaseId.set(lease.path("leaseId").asString());
                    return Optional.empty(); // granted, but the answer never arrives
                }
            }
            return Optional.of(r);
        }
    }

    /**
     * Forwards everything to the registry, but answers a lease whose job belongs to {@code model} with a proxy's
     * maintenance page (200, HTML) after the registry granted it.
     */
    private static final class HtmlProxy extends RegistryProxy {
        final AtomicInteger replaced = new AtomicInteger();
        final List<String> requestReleases = new CopyOnWriteArrayList<>();
        private final String model;

        HtmlProxy(String target, String model) throws IOException {
            this.model = model;
            start(target);
        }

        @Override
        Optional<Answer> exchange(Request request, ForwardingProxy.Upstream registry)
                throws IOException, InterruptedException {
            Answer r = registry.forward(request);
            String path = request.uri().getPath();
            if (path.contains("/lease-requests/")) requestReleases.add(path + " " + r.status());
            if (path.endsWith("/lease") && r.status() == 200 && r.text().contains("\"model\":\"" + model + "\"")) {
                replaced.incrementAndGet();
                return Optional.of(Answer.html(200, "<html>maintenance</html>"));
            }
            return Optional.of(r);
        }
    }
}
