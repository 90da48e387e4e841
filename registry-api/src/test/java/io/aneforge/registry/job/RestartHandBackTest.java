package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.instance.AgentInstance;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.testsupport.http.ForwardingProxy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * An agent process that registers again with its instance id (a restart) gets the jobs that instance still held handed
 * back at once, over the real registry's HTTP API and PostgreSQL; another instance of the same host keeps its leases.
 * Leases here last 2 s: heartbeats in the agents' names keep them alive meanwhile, standing in for the 5 minutes of a
 * real lease, so only the registration can have handed a job back (an expired lease would also spend an attempt).
 */
class RestartHandBackTest extends JobTestSupport {

    /** Leases kept alive, by agent id. */
    private final Map<String, Set<String>> alive = new ConcurrentHashMap<>();
    private ScheduledExecutorService keepAlive;

    @BeforeEach
    void heartbeats() {
        keepAlive = Executors.newSingleThreadScheduledExecutor();
        keepAlive.scheduleWithFixedDelay(() -> alive.forEach((agent, leases) -> {
            try {
                send("POST", "/api/v1/agents/" + agent + "/heartbeat", agentToken(), Map.of("leaseIds", List.copyOf(leases)));
            } catch (RuntimeException e) {
                // the next beat tries again (an exception would end the schedule)
            }
        }), 0, 300, TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void stopHeartbeats() {
        keepAlive.shutdownNow();
    }

    /** One coreml benchmark job on {@code chip} (cpuOnly), ready to lease. */
    private int oneJob(String model, String chip) {
        return leasableVariant(model, chip, 8, List.of("cpuOnly")).version();
    }

    /** As {@link #oneJob}, without golden data yet: the job exists but is not ready to lease. */
    private int oneJobNotReady(String model, String chip) {
        return newVersionWithVariant(model, chip, 8, List.of("cpuOnly")).version();
    }

    /** Registers {@code host} as agent process {@code instance} (null: the field left out, as older agents do). */
    private Response register(String host, String chip, UUID instance) {
        return register(host, chip, instance, null);
    }

    /** As {@link #register(String, String, UUID)}, also naming the process start ({@code processId}; null: left out). */
    private Response register(String host, String chip, UUID instance, UUID process) {
        Map<String, Object> body = registrationBody(host, chip, List.of("coreml"), GoldenOutputsCodec.VERSION);
        if (instance != null) body.put("instanceId", instance.toString());
        if (process != null) body.put("processId", process.toString());
        Response r = send("POST", "/api/v1/agents", agentToken(), body);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r;
    }

    /**
     * Leases as {@code instance} until it gets the job of {@code model} (kept alive from then on); other tests' leftovers
     * on the chip are released again.
     */
    private JsonNode leaseOf(String agent, UUID instance, String model) {
        return leaseOf(agent, instance, null, model);
    }

    private JsonNode leaseOf(String agent, UUID instance, UUID process, String model) {
        return leaseReleasingOthers(agent, model, () -> "request=" + UUID.randomUUID()
                        + (instance == null ? "" : "&instance=" + instance)
                        + (process == null ? "" : "&process=" + process),
                lease -> keepAlive(agent, lease.path("leaseId").asString()));
    }

    /** Heartbeats in {@code agent}'s name keep {@code leaseId} alive from now on (until {@link #alive} is cleared). */
    private void keepAlive(String agent, String leaseId) {
        alive.computeIfAbsent(agent, a -> ConcurrentHashMap.newKeySet()).add(leaseId);
    }

    /** An HTTP registry client for the agent process on {@code instance}'s slot, through {@code url}. */
    private HttpRegistryClient client(URI url, AgentInstance instance) {
        return new HttpRegistryClient(url, agentToken(), Duration.ofSeconds(30), instance.id(), instance);
    }

    /**
     * An agent on {@code cache} (its process on {@code instance}) that leases through {@code url}, reports other tests'
     * leftovers, and keeps the job of {@code model} once leased (its lease id set in {@code leaseId}) until
     * {@code never} opens: a long job, or the one it dies running.
     */
    private AgentLoop holdingTheJob(URI url, AgentInstance instance, HostFacts h, String model,
                                    AtomicReference<String> leaseId, CountDownLatch never, Path cache) {
        return new AgentLoop(client(url, instance), h, lease -> {
            if (!lease.model().equals(model)) return AgentFleetTest.fakeReport(lease, h);
            leaseId.set(lease.leaseId());
            never.await();
            return null;
        }, Duration.ofMillis(200), Duration.ofMillis(20), cache);
    }

    /**
     * The next agent process on {@code cache}'s slot ({@code again}), through {@code url}: it sends what the ended one
     * left (its unanswered lease call, its kept releases) before it registers, then runs every job it leases.
     */
    private AgentLoop restartedAgent(URI url, AgentInstance again, HostFacts h, Path cache) {
        return new AgentLoop(client(url, again), h, lease -> AgentFleetTest.fakeReport(lease, h), Duration.ofMillis(200),
                Duration.ofMillis(20), cache).releaseFirst(again.unansweredLeaseCall());
    }

    /** Drains {@code agent}, so its chip's later jobs go to other tests' agents, and stops keeping its leases alive. */
    private void drain(String agent) {
        send("POST", "/api/v1/agents/" + agent + "/drain", agentToken(), Map.of("draining", true));
        alive.clear();
    }

    private static List<Long> ids(JsonNode list) {
        List<Long> ids = new ArrayList<>();
        list.forEach(n -> ids.add(n.asLong()));
        return ids;
    }

    @Autowired
    JdbcClient jdbc;

    /**
     * A registry replica from before V33 (a rolling upgrade, or a rollback) leases a job without touching
     * leased_instance: the value of the job's previous lease stays. Played by its lease statement's SET list.
     * (From review g, finding 1.)
     */
    @Test
    void aLeaseGrantedByAnOlderReplicaIsNotHandedBackByAnotherInstancesRestart() {
        oneJob("rs-stale", "A17_PRO");
        UUID x = UUID.randomUUID();
        UUID y = UUID.randomUUID();
        String agent = register("rs-host", "A17_PRO", x).json().path("id").asString();
        register("rs-host", "A17_PRO", y);
        JsonNode lx = leaseOf(agent, x, "rs-stale");
        long job = lx.path("jobId").asLong();
        // X hands it back normally (a drain)
        Response rel = send("POST", "/api/v1/agents/" + agent + "/jobs/" + job + "/release", agentToken(),
                Map.of("leaseId", lx.path("leaseId").asString()));
        assertThat(rel.status()).as(rel.text()).isEqualTo(200);
        alive.clear();
        // an older replica leases it to process Y of the same host (old LEASE: no leased_instance)
        UUID lease = UUID.randomUUID();
        jdbc.sql("UPDATE job SET state = 'leased', attempts = attempts + 1, lease_id = ?, leased_by = ?,"
                + " lease_expires_at = now() + interval '5 minutes' WHERE id = ?")
                .params(lease, UUID.fromString(agent), job).update();
        keepAlive(agent, lease.toString());
        // X restarts
        Response restart = register("rs-host", "A17_PRO", x);
        assertThat(ids(restart.json().path("handedBack").path("released")))
                .as("Y's live lease, granted without an instance, must stay").isEmpty();
        drain(agent);
    }

    /**
     * A registration of a process that arrives late (a retry after a timeout went through first, and the process
     * leased meanwhile) hands back nothing that process leased; a later process start of the instance does.
     */
    @Test
    void aDelayedDuplicateOfAProcesssOwnRegistrationKeepsItsLeases() {
        int v = oneJob("rd-dup", "A16");
        UUID instance = UUID.randomUUID();
        UUID process = UUID.randomUUID();
        String agent = register("rd-host", "A16", instance, process).json().path("id").asString();
        long job = leaseOf(agent, instance, process, "rd-dup").path("jobId").asLong();
        Response late = register("rd-host", "A16", instance, process);
        assertThat(ids(late.json().path("handedBack").path("released"))).as("the same process start").isEmpty();
        assertThat(benchmarkJob("rd-dup", v).path("state").asString()).isEqualTo("leased");
        Response restart = register("rd-host", "A16", instance, UUID.randomUUID());
        assertThat(ids(restart.json().path("handedBack").path("released"))).as("a new process start")
                .containsExactly(job);
        drain(agent);
    }

    @Test
    void aRestartedInstanceGetsItsLeasesHandedBackAndAnotherInstanceKeepsItsOwn() {
        int v1 = oneJob("rh-mine", "A18_PRO");
        int v2 = oneJob("rh-theirs", "A18_PRO");
        int v3 = oneJob("rh-old", "A18_PRO");
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        String agent = register("rh-host", "A18_PRO", first).json().path("id").asString();
        assertThat(register("rh-host", "A18_PRO", second).json().path("id").asString())
                .as("one agent id per host: results stay the host's").isEqualTo(agent);
        long mine = leaseOf(agent, first, "rh-mine").path("jobId").asLong();
        long theirs = leaseOf(agent, second, "rh-theirs").path("jobId").asLong();
        long old = leaseOf(agent, null, "rh-old").path("jobId").asLong();

        Response restart = register("rh-host", "A18_PRO", first);
        assertThat(restart.json().path("id").asString()).isEqualTo(agent);
        assertThat(ids(restart.json().path("handedBack").path("released"))).containsExactly(mine);
        assertThat(ids(restart.json().path("handedBack").path("failed"))).isEmpty();
        JsonNode job = benchmarkJob("rh-mine", v1);
        assertThat(job.path("state").asString()).isEqualTo("pending");
        assertThat(job.path("attempts").asInt()).as("no attempt spent").isZero();
        assertThat(benchmarkJob("rh-theirs", v2).path("state").asString()).as("the second process's lease")
                .isEqualTo("leased");
        assertThat(benchmarkJob("rh-old", v3).path("state").asString()).as("a lease granted without an instance")
                .isEqualTo("leased");

        Response again = register("rh-host", "A18_PRO", first);
        assertThat(ids(again.json().path("handedBack").path("released"))).as("nothing left to hand back").isEmpty();
        Response older = register("rh-host", "A18_PRO", null);
        assertThat(older.json().has("handedBack")).as("an agent that names no instance: as before").isFalse();
        assertThat(benchmarkJob("rh-theirs", v2).path("state").asString()).isEqualTo("leased");
        assertThat(benchmarkJob("rh-old", v3).path("state").asString()).isEqualTo("leased");
        Response list = send("GET", "/api/v1/agents", agentToken(), null);
        assertThat(list.text()).as("only a registration's answer names hand-backs").doesNotContain("handedBack");

        // The second process's restart hands back its own lease, not the first's new one.
        long mineAgain = leaseOf(agent, first, "rh-mine").path("jobId").asLong();
        assertThat(ids(register("rh-host", "A18_PRO", second).json().path("handedBack").path("released")))
                .containsExactly(theirs);
        assertThat(benchmarkJob("rh-mine", v1).path("state").asString()).isEqualTo("leased");
        assertThat(mineAgain).isEqualTo(mine);

        drain(agent);
    }

    /**
     * A job whose run kills its agent would come back to it after every restart: restart hand-backs are counted like
     * hand-backs for trouble, and the third (past aneforge.jobs.max-hand-backs, 2) fails the job naming the restart.
     */
    @Test
    void aJobHandedBackByRestartsOnceTooOftenFailsNamingThem() {
        int v = oneJob("rh-poison", "M3");
        UUID instance = UUID.randomUUID();
        String agent = register("rh-poison-host", "M3", instance).json().path("id").asString();
        long job = 0;
        for (int restart = 1; restart <= 3; restart++) {
            job = leaseOf(agent, instance, "rh-poison").path("jobId").asLong();
            JsonNode back = register("rh-poison-host", "M3", instance).json().path("handedBack");
            if (restart < 3) {
                assertThat(ids(back.path("released"))).as("restart " + restart).containsExactly(job);
            } else {
                assertThat(ids(back.path("released"))).isEmpty();
                assertThat(ids(back.path("failed"))).containsExactly(job);
            }
        }
        JsonNode j = benchmarkJob("rh-poison", v);
        assertThat(j.path("state").asString()).isEqualTo("failed");
        assertThat(j.path("attempts").asInt()).as("hand-backs spend no attempt").isEqualTo(1);
        assertThat(j.path("failureReason").asString())
                .startsWith("agent rh-poison-host could not run job " + job + " 3 times")
                .contains("was restarted (instance " + instance + " registered again)");
        drain(agent);
    }

    /**
     * The whole way: an agent on a cache directory (its instance id claimed there, sent by the HTTP client, which notes
     * each lease call in the slot as in production) leases the job and dies running it; the next agent on the directory
     * claims the same instance id, its registration hands the job back, and it runs the job as the same attempt. The
     * lease call that got the job was answered, so it left no note: the job the dead process was running is the
     * registration's to hand back, counted (a job that kills its agent must not come back to it for ever), not a
     * release by request of the next process, which would be uncounted.
     */
    @Test
    void anAgentRestartedOnItsCacheDirectoryRunsItsJobAgainAtOnce(@TempDir Path cache) throws Exception {
        int v = oneJob("rh-loop", "M4");
        HostFacts h = AgentFleetTest.host("rh-loop-host", "M4", "coreml");
        URI url = URI.create("http://127.0.0.1:" + port);
        AgentInstance dying = AgentInstance.claim(cache);
        AtomicReference<String> leaseId = new AtomicReference<>();
        CountDownLatch never = new CountDownLatch(1);
        AgentLoop first = holdingTheJob(url, dying, h, "rh-loop", leaseId, never, cache); // dies running it
        // Closed in reverse: the held job ends, then the crashed agent halts.
        try (Cleanup halted = first::halt; Cleanup released = never::countDown) {
            first.start();
            waitFor(() -> leaseId.get() != null, "the job leased");
            keepAlive(first.agentId(), leaseId.get());
            first.halt(); // a crash: releases nothing
            dying.close(); // the process is gone: the OS lets go of its lock
            waitFor(() -> !first.isRunning(), "the crashed agent's thread ended");
            Thread.sleep(500); // a long poll of the crashed agent still waiting in the registry (200 ms) ends
            assertThat(benchmarkJob("rh-loop", v).path("state").asString()).isEqualTo("leased");

            AgentInstance again = AgentInstance.claim(cache);
            assertThat(again.id()).as("the same instance on the same cache directory").isEqualTo(dying.id());
            assertThat(again.unansweredLeaseCall()).as("the call that got the job was answered: no note").isEmpty();
            alive.clear(); // the registration, not the 2 s lease's expiry, must hand it back: checked by the attempt
            AgentLoop restarted = restartedAgent(url, again, h, cache);
            restarted.start();
            try (Cleanup drained = () -> haltAndDrain(restarted)) {
                waitFor(() -> succeeded("rh-loop", v), "the job succeeded");
                again.close();
            }
        }
        JsonNode job = benchmarkJob("rh-loop", v);
        assertThat(job.path("attempts").asInt()).as("handed back, not expired: the same attempt").isEqualTo(1);
        assertThat(countedHandBacks(job.path("id").asLong())).as("a crash while running the job is counted").isEqualTo(1);
        assertThat(job.path("releasedLeases")).singleElement().satisfies(r -> assertThat(r.path("lastReason").asString())
                .contains("rh-loop-host was restarted (instance " + dying.id() + " registered again)"));
    }

    /** The counted hand-backs of {@code job} (all agents): what aneforge.jobs.max-hand-backs bounds. */
    private int countedHandBacks(long job) {
        return jdbc.sql("SELECT COALESCE(SUM(hand_backs), 0) FROM job_hand_back WHERE job_id = ?").param(job)
                .query(Integer.class).single();
    }

    /**
     * Forwards everything to the registry and records, per request id, the registry's status for each lease call,
     * even when the agent that made the call is gone (the registry answers a long poll it does not know is dead).
     * Lease calls in flight are listed until the registry answers them.
     */
    private final class LeaseCallRecorder extends RegistryProxy {
        final Map<String, Integer> answered = new ConcurrentHashMap<>();
        final Map<String, JsonNode> granted = new ConcurrentHashMap<>();
        final Map<String, Long> inFlightSince = new ConcurrentHashMap<>();
        /** Lease calls wait here until opened (the agent behind this proxy leases nothing meanwhile). */
        final CountDownLatch leasing;
        /** Releases by lease request this proxy answered 503 itself. */
        final java.util.concurrent.atomic.AtomicInteger failedReleases = new java.util.concurrent.atomic.AtomicInteger();
        /** Whether the next release by lease request gets the proxy's 503. */
        private final java.util.concurrent.atomic.AtomicBoolean failNext;

        LeaseCallRecorder(boolean leasing) throws java.io.IOException {
            this(leasing, false);
        }

        /** @param failFirstRelease the first release by lease request gets a proxy's 503 page, the registry never sees it */
        LeaseCallRecorder(boolean leasing, boolean failFirstRelease) throws java.io.IOException {
            this.leasing = new CountDownLatch(leasing ? 0 : 1);
            this.failNext = new java.util.concurrent.atomic.AtomicBoolean(failFirstRelease);
            start("http://127.0.0.1:" + port);
        }

        @Override
        java.util.Optional<ForwardingProxy.Answer> exchange(ForwardingProxy.Request request,
                ForwardingProxy.Upstream registry) throws java.io.IOException, InterruptedException {
            if (request.uri().getPath().contains("/lease-requests/") && failNext.compareAndSet(true, false)) {
                failedReleases.incrementAndGet();
                return java.util.Optional.of(ForwardingProxy.Answer.html(503, "<html>503</html>"));
            }
            boolean lease = request.uri().getPath().endsWith("/lease");
            if (!lease) return java.util.Optional.of(registry.forward(request));
            leasing.await();
            String id = requestIdOf(request.uri());
            inFlightSince.put(id, System.nanoTime());
            ForwardingProxy.Answer a = registry.forward(request);
            if (a.status() == 200) granted.put(id, JSON.readTree(a.body()));
            answered.put(id, a.status());
            inFlightSince.remove(id);
            return java.util.Optional.of(a);
        }

        /** A lease call that has waited in the registry's long poll for at least {@code ms}, or null. */
        String waitingFor(long ms) {
            long now = System.nanoTime();
            return inFlightSince.entrySet().stream().filter(e -> now - e.getValue() >= ms * 1_000_000L)
                    .map(Map.Entry::getKey).findFirst().orElse(null);
        }

        @Override
        public void close() {
            leasing.countDown();
            super.close();
        }
    }

    /**
     * The agent loop that ended with a long poll waiting in the registry (up to 30 s in real life): an idle agent,
     * which spends nearly all its time there, killed and restarted by its supervisor within seconds. Its instance slot
     * noted the call. Here the poll is still waiting when the next process on the slot starts: that process releases
     * the call by request before it registers (the registry finds nothing and remembers it), and when the job becomes
     * ready the dead poll is granted nothing (it waits out its wait and answers 204). The restarted agent runs the job on attempt 1, and nothing was
     * counted against it. Before, the dead poll got the job and its lease ran out (5 min; 2 s here), spending attempt 1.
     */
    @Test
    void aLongPollOfAnEndedProcessStillWaitingIsGrantedNothingOnceTheNextProcessReleasedIt(@TempDir Path cache)
            throws Exception {
        int v = oneJobNotReady("rp-waiting", "A15");
        endedDuringALongPollThenRestarted(cache, "rp-waiting", "A15", v, false);
    }

    /**
     * As {@link #aLongPollOfAnEndedProcessStillWaitingIsGrantedNothingOnceTheNextProcessReleasedIt}, but the job becomes
     * ready before the restart: the dead poll is granted the job (its answer goes nowhere), and the next process on
     * the slot releases it by request before registering: back in the queue at once, no attempt spent, not counted as a
     * hand-back for trouble (the job never reached an agent), run again on attempt 1. The test keeps the lease alive
     * meanwhile (heartbeats in the agent's name, for the 5 min of a real lease against the 2 s here), so only the
     * release can have handed it back; handed back by the registration instead, it would have been counted.
     */
    @Test
    void aLeaseGrantedToTheLongPollOfAnEndedProcessIsReleasedByTheNextOneUncounted(@TempDir Path cache)
            throws Exception {
        int v = oneJobNotReady("rp-granted", "A14");
        endedDuringALongPollThenRestarted(cache, "rp-granted", "A14", v, true);
    }

    /**
     * As {@link #aLeaseGrantedToTheLongPollOfAnEndedProcessIsReleasedByTheNextOneUncounted}, but the restarted agent's
     * first try of that release gets a proxy's 503 (review q, finding 1): it must not register in the same pass (its
     * registration would hand the job back counted like trouble) but try the release again first.
     */
    @Test
    void aLeaseGrantedToTheLongPollOfAnEndedProcessIsReleasedUncountedWhenTheFirstTryFails(@TempDir Path cache)
            throws Exception {
        int v = oneJobNotReady("rp-granted-retry", "A18");
        endedDuringALongPollThenRestarted(cache, "rp-granted-retry", "A18", v, true, true);
    }

    private void endedDuringALongPollThenRestarted(Path cache, String model, String chip, int v, boolean grantedFirst)
            throws Exception {
        endedDuringALongPollThenRestarted(cache, model, chip, v, grantedFirst, false);
    }

    private void endedDuringALongPollThenRestarted(Path cache, String model, String chip, int v, boolean grantedFirst,
            boolean firstReleaseFails) throws Exception {
        HostFacts h = AgentFleetTest.host(model + "-host", chip, "coreml");
        URI url = URI.create("http://127.0.0.1:" + port);
        AgentInstance dying = AgentInstance.claim(cache);
        LeaseCallRecorder first = new LeaseCallRecorder(true);
        LeaseCallRecorder second = new LeaseCallRecorder(grantedFirst, firstReleaseFails);
        // Lease calls wait up to 15 s: other tests' leftovers on the chip are run (reported) first, then one waits.
        AgentLoop ended = new AgentLoop(client(URI.create(first.url()), dying), h,
                lease -> AgentFleetTest.fakeReport(lease, h), Duration.ofSeconds(15), Duration.ofMillis(20), cache);
        // Closed in reverse: no more heartbeats, the crashed agent halts, then the proxies close.
        try (second; first; Cleanup halted = ended::halt; Cleanup beatsStopped = alive::clear) {
            ended.start();
            waitFor(() -> first.waitingFor(1000) != null, "a long poll waiting in the registry");
            String dead = first.waitingFor(1000);
            ended.halt(); // a crash: the registry keeps the poll waiting, it does not know the caller is gone
            dying.close();
            waitFor(() -> !ended.isRunning(), "the crashed agent's thread ended");
            assertThat(Files.readString(cache.resolve("instance/0.request"))).as("the slot noted the call")
                    .startsWith(ended.agentId() + " " + dead + " ");
            String agent = ended.agentId();
            if (grantedFirst) {
                setGolden(model, v); // wakes the dead poll: granted, its answer goes nowhere
                waitFor(() -> first.granted.containsKey(dead), "the dead poll granted");
                keepAlive(agent, first.granted.get(dead).path("leaseId").asString());
                assertThat(first.granted.get(dead).path("model").asString()).isEqualTo(model);
            }

            AgentInstance again = AgentInstance.claim(cache);
            assertThat(again.unansweredLeaseCall()).as("what the next process on the slot reads")
                    .hasValueSatisfying(c -> assertThat(c.request()).isEqualTo(dead));
            AgentLoop restarted = restartedAgent(URI.create(second.url()), again, h, cache);
            restarted.start();
            try (Cleanup drained = () -> haltAndDrain(restarted)) {
                assertThat(restarted.awaitRegistered(Duration.ofSeconds(30))).isTrue();
                if (!grantedFirst) {
                    // released before the registration: the registry found nothing and remembers the request
                    setGolden(model, v); // wakes the dead poll, still waiting: it would take the job now
                    assertThat(first.answered).as("the dead poll still waiting when the job became ready")
                            .doesNotContainKey(dead);
                    // The registry grants it nothing and lets it wait out its 15 s, as an empty queue would.
                    waitFor(() -> first.answered.containsKey(dead), "the dead poll answered");
                    assertThat(first.answered.get(dead)).as("the dead poll, released before its grant").isEqualTo(204);
                    JsonNode job = benchmarkJob(model, v);
                    assertThat(job.path("state").asString()).isEqualTo("pending");
                    assertThat(job.path("attempts").asInt()).isZero();
                    second.leasing.countDown(); // the restarted agent may lease now
                }
                waitFor(() -> succeeded(model, v), "the job succeeded");
                again.close();
            }
        }
        JsonNode job = benchmarkJob(model, v);
        assertThat(job.path("attempts").asInt()).as("no lease ran out: one attempt").isEqualTo(1);
        assertThat(results(model, v).valueStream().toList()).singleElement()
                .satisfies(r -> assertThat(r.path("attempt").asInt()).isEqualTo(1));
        assertThat(countedHandBacks(job.path("id").asLong())).as("not counted against the job or the agent").isZero();
        if (firstReleaseFails) {
            assertThat(second.failedReleases.get()).as("the proxy failed the first release try").isEqualTo(1);
        }
        if (grantedFirst) {
            assertThat(job.path("releasedLeases")).singleElement().satisfies(r -> assertThat(r.path("lastReason")
                    .asString()).contains("process ended during this lease call"));
        } else {
            assertThat(job.path("releasedLeases")).as("nothing was granted to release").isEmpty();
        }
    }

    /**
     * A drain whose release does not get through (the registry answers job releases 503): the release is kept in the
     * cache directory, without trouble, and the agent stops. The next process on the directory registers as the same
     * instance, whose registration hands back the instance's leases counted like trouble; it sends the kept release
     * first, so the job goes back uncounted, as the drain meant, and runs again on the same attempt.
     */
    @Test
    void aDrainReleaseKeptForTheNextProcessIsNotCountedAsTrouble(@TempDir Path cache) throws Exception {
        drainedThenRestarted(cache, "rp-drain", "M1", false);
    }

    /**
     * As {@link #aDrainReleaseKeptForTheNextProcessIsNotCountedAsTrouble}, but the next process's first try of the kept
     * release fails too (a proxy's 503; review q, finding 1): it must not register in the same pass, whose hand-back
     * would count the job like trouble, but back off and send the release again first.
     */
    @Test
    void aDrainReleaseKeptForTheNextProcessIsNotCountedWhenItsFirstTryFails(@TempDir Path cache) throws Exception {
        drainedThenRestarted(cache, "rp-drain-retry", "A18", true);
    }

    private void drainedThenRestarted(Path cache, String model, String chip, boolean firstTryFails) throws Exception {
        int v = oneJob(model, chip);
        HostFacts h = AgentFleetTest.host(model + "-host", chip, "coreml");
        URI url = URI.create("http://127.0.0.1:" + port);
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        ForwardingProxy failsOnce = ForwardingProxy.start(url.toString(), (request, registry) ->
                request.uri().getPath().contains("/jobs/") && request.uri().getPath().endsWith("/release")
                        && failed.getAndIncrement() == 0
                        ? java.util.Optional.of(ForwardingProxy.Answer.html(503, "<html>503</html>"))
                        : java.util.Optional.of(registry.forward(request)));
        ForwardingProxy releasesDown = ForwardingProxy.start(url.toString(), (request, registry) ->
                request.uri().getPath().contains("/jobs/") && request.uri().getPath().endsWith("/release")
                        ? java.util.Optional.of(ForwardingProxy.Answer.html(503, "<html>503</html>"))
                        : java.util.Optional.of(registry.forward(request)));
        AgentInstance draining = AgentInstance.claim(cache);
        AtomicReference<String> leaseId = new AtomicReference<>();
        CountDownLatch never = new CountDownLatch(1);
        // a long job: the drain does not wait for it
        AgentLoop first = holdingTheJob(URI.create(releasesDown.url()), draining, h, model, leaseId, never, cache);
        // Closed in reverse: the held job ends, no more heartbeats, the drained agent halts, then the proxies close.
        try (failsOnce; releasesDown; Cleanup halted = first::halt; Cleanup beatsStopped = alive::clear;
             Cleanup released = never::countDown) {
            first.start();
            waitFor(() -> leaseId.get() != null, "the job leased");
            String agent = first.agentId();
            keepAlive(agent, leaseId.get());
            first.drain(Duration.ofMillis(100));
            draining.close();
            assertThat(first.isRunning()).isFalse();
            try (var kept = Files.list(cache.resolve("unsent-releases"))) {
                assertThat(kept.map(p -> p.getFileName().toString()).toList()).as("the drain's release, kept")
                        .anyMatch(f -> f.startsWith("lease-"));
            }
            assertThat(benchmarkJob(model, v).path("state").asString()).isEqualTo("leased");

            AgentInstance again = AgentInstance.claim(cache);
            assertThat(again.id()).isEqualTo(draining.id());
            AgentLoop restarted = restartedAgent(firstTryFails ? URI.create(failsOnce.url()) : url, again, h, cache);
            restarted.start();
            try (Cleanup drained = () -> haltAndDrain(restarted)) {
                waitFor(() -> succeeded(model, v), "the job succeeded");
                again.close();
            }
        }
        if (firstTryFails) {
            assertThat(failed.get()).as("the proxy failed the first try; more went through").isGreaterThan(1);
        }
        JsonNode job = benchmarkJob(model, v);
        assertThat(job.path("attempts").asInt()).as("released, not expired: the same attempt").isEqualTo(1);
        assertThat(countedHandBacks(job.path("id").asLong())).as("a drain is not trouble").isZero();
        assertThat(job.path("releasedLeases")).singleElement().satisfies(r -> assertThat(r.path("lastReason").asString())
                .contains("shut down before job " + job.path("id").asLong() + " finished", "sent again"));
    }
}
