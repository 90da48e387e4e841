package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.instance.AgentInstance;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import java.net.URI;
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
                lease -> alive.computeIfAbsent(agent, a -> ConcurrentHashMap.newKeySet())
                        .add(lease.path("leaseId").asString()));
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
        alive.computeIfAbsent(agent, a -> ConcurrentHashMap.newKeySet()).add(lease.toString());
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
     * The whole way: an agent on a cache directory (its instance id claimed there, sent by the HTTP client) leases the
     * job and dies running it; the next agent on the directory claims the same instance id, its registration hands the
     * job back, and it runs the job as the same attempt.
     */
    @Test
    void anAgentRestartedOnItsCacheDirectoryRunsItsJobAgainAtOnce(@TempDir Path cache) throws Exception {
        int v = oneJob("rh-loop", "M4");
        HostFacts h = AgentFleetTest.host("rh-loop-host", "M4", "coreml");
        URI url = URI.create("http://127.0.0.1:" + port);
        AgentInstance dying = AgentInstance.claim(cache);
        AtomicReference<String> leaseId = new AtomicReference<>();
        CountDownLatch never = new CountDownLatch(1);
        AgentLoop first = new AgentLoop(new HttpRegistryClient(url, agentToken(), Duration.ofSeconds(30), dying.id()), h,
                lease -> {
                    if (!lease.model().equals("rh-loop")) return AgentFleetTest.fakeReport(lease, h);
                    leaseId.set(lease.leaseId());
                    never.await(); // dies running it
                    return null;
                }, Duration.ofMillis(200), Duration.ofMillis(20), cache);
        AgentLoop restarted = null;
        try {
            first.start();
            waitFor(() -> leaseId.get() != null, "the job leased");
            alive.computeIfAbsent(first.agentId(), a -> ConcurrentHashMap.newKeySet()).add(leaseId.get());
            first.halt(); // a crash: releases nothing
            dying.close(); // the process is gone: the OS lets go of its lock
            waitFor(() -> !first.isRunning(), "the crashed agent's thread ended");
            Thread.sleep(500); // a long poll of the crashed agent still waiting in the registry (200 ms) ends
            assertThat(benchmarkJob("rh-loop", v).path("state").asString()).isEqualTo("leased");

            AgentInstance again = AgentInstance.claim(cache);
            assertThat(again.id()).as("the same instance on the same cache directory").isEqualTo(dying.id());
            alive.clear(); // the registration, not the 2 s lease's expiry, must hand it back: checked by the attempt
            restarted = new AgentLoop(new HttpRegistryClient(url, agentToken(), Duration.ofSeconds(30), again.id()), h,
                    lease -> AgentFleetTest.fakeReport(lease, h), Duration.ofMillis(200), Duration.ofMillis(20), cache);
            restarted.start();
            waitFor(() -> results("rh-loop", v).valueStream()
                    .anyMatch(r -> r.path("outcome").asString().equals("succeeded")), "the job succeeded");
            again.close();
        } finally {
            never.countDown();
            if (restarted != null) {
                restarted.halt();
                send("POST", "/api/v1/agents/" + restarted.agentId() + "/drain", agentToken(), Map.of("draining", true));
            }
            first.halt();
        }
        JsonNode job = benchmarkJob("rh-loop", v);
        assertThat(job.path("attempts").asInt()).as("handed back, not expired: the same attempt").isEqualTo(1);
    }
}
