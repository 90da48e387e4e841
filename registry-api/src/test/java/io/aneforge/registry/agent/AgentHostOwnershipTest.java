package io.aneforge.registry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.agent.registry.HttpRegistryClient;
import io.aneforge.registry.job.JobTestSupport;
import io.aneforge.registry.job.Runtimes;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * A host name does not move a host between tokens: another agent token's registration is refused (409, saying
 * how to switch), the same token's re-registration (an agent restart) works, and the two deliberate switches
 * (revoking the old token, an admin's handover) keep the agent's id and the results it reported. Real tokens,
 * real HTTP.
 */
class AgentHostOwnershipTest extends JobTestSupport {

    @Autowired
    JdbcClient jdbc;

    private record Minted(long id, String token) {}

    private Minted mint(String name, String role) {
        Response r = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", name, "role", role));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return new Minted(r.json().path("id").asLong(), r.json().path("token").asString());
    }

    /**
     * Registers a host no job matches: Core ML without an Apple chip (benchmark jobs need the variant's chip,
     * accuracy jobs reference-cpu), so every lease is a 204 after the identity check, whatever other tests queued.
     */
    private Response register(String host, String token) {
        return register(host, token, Runtimes.COREML, null);
    }

    private Response register(String host, String token, String runtime, String chip) {
        return sendRegistration(host, chip, List.of(runtime), token);
    }

    private int leaseStatus(String agentId, String token) {
        return send("POST", "/api/v1/agents/" + agentId + "/lease", token, null).status();
    }

    private JsonNode agentRow(String host) {
        for (JsonNode a : get("/api/v1/agents", reader()).json()) {
            if (a.path("hostName").asString().equals(host)) return a;
        }
        throw new AssertionError("no agent " + host);
    }

    private long agentsNamed(String host) {
        return jdbc.sql("SELECT count(*) FROM agent WHERE host_name = ?").param(host).query(Long.class).single();
    }

    @Test
    void anotherTokenCannotTakeOverAHostAndTheOwnerKeepsIt() {
        Minted owner = mint("ownership-owner", "agent");
        Minted intruder = mint("ownership-intruder", "agent");
        Response first = register("owned-host", owner.token());
        assertThat(first.status()).as(first.text()).isEqualTo(200);
        String id = first.json().path("id").asString();
        assertThat(leaseStatus(id, owner.token())).isEqualTo(204);

        Response takeover = register("owned-host", intruder.token());
        assertThat(takeover.status()).as(takeover.text()).isEqualTo(409);
        assertThat(takeover.header("Content-Type")).startsWith("application/problem+json");
        assertThat(takeover.problem()).isEqualTo("host-owned-by-another-token");
        assertThat(takeover.json().path("detail").asString()).contains(
                "host 'owned-host'", "agent " + id, "another token (#" + owner.id() + ")",
                "DELETE /api/v1/tokens/" + owner.id(),
                "PUT /api/v1/agents/" + id + "/token {\"tokenId\": " + intruder.id() + "}");
        assertThat(takeover.json().path("hostName").asString()).isEqualTo("owned-host");
        assertThat(takeover.json().path("agentId").asString()).isEqualTo(id);

        // nothing moved: the owner still acts, the intruder may not, the row still names the owner
        assertThat(leaseStatus(id, owner.token())).isEqualTo(204);
        Response refused = send("POST", "/api/v1/agents/" + id + "/lease", intruder.token(), null);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.problem()).isEqualTo("not-your-agent");
        assertThat(refused.json().path("detail").asString()).contains("PUT /api/v1/agents/" + id + "/token");
        assertThat(agentRow("owned-host").path("registeredBy").asString()).isEqualTo("ownership-owner");
        assertThat(agentsNamed("owned-host")).isEqualTo(1);

        // an agent restart with its own token is the same agent
        Response restart = register("owned-host", owner.token());
        assertThat(restart.status()).as(restart.text()).isEqualTo(200);
        assertThat(restart.json().path("id").asString()).isEqualTo(id);
        // an admin may register any host (admins act as any agent anyway)
        Response admin = register("owned-host", ADMIN);
        assertThat(admin.status()).as(admin.text()).isEqualTo(200);
        assertThat(admin.json().path("id").asString()).isEqualTo(id);
        // a host the bootstrap admin registered is no agent token's to take either
        Response again = register("owned-host", intruder.token());
        assertThat(again.status()).as(again.text()).isEqualTo(409);
        assertThat(again.json().path("detail").asString()).contains("bootstrap admin token", "PUT /api/v1/agents/" + id + "/token");
    }

    @Test
    @SuppressWarnings("unchecked")
    void revokingTheOldTokenLetsTheHostSwitchAndKeepsItsResults() {
        Minted old = mint("switch-old", "agent");
        Minted fresh = mint("switch-new", "agent");
        createModel("switch-results");
        int v = createVersion("switch-results");
        Response variant = send("POST", "/api/v1/models/switch-results/versions/" + v + "/variants", publisher(),
                Map.of("chip", "M1", "deploymentTarget", "18.0", "layout", "ane", "precision", "fp16", "seqLen", 128,
                        "digest", upload(mlpackage("switch-results")), "computeUnits", List.of("cpuOnly")));
        assertThat(variant.status()).as(variant.text()).isEqualTo(201);
        setGolden("switch-results", v);

        Response reg = register("switching-host", old.token(), Runtimes.COREML, "M1");
        assertThat(reg.status()).as(reg.text()).isEqualTo(200);
        String id = reg.json().path("id").asString();
        JsonNode lease = leaseOwn(id, old.token(), "switch-results");
        Map<String, Object> report = validReport(lease, "switching-host");
        ((Map<String, Object>) report.get("provenance")).put("chip", "M1");
        Response stored = send("POST", "/api/v1/agents/" + id + "/jobs/" + lease.path("jobId").asLong() + "/result",
                old.token(), report);
        assertThat(stored.status()).as(stored.text()).isEqualTo(201);

        assertThat(register("switching-host", fresh.token()).status()).isEqualTo(409);
        assertThat(send("DELETE", "/api/v1/tokens/" + old.id(), ADMIN, null).status()).isEqualTo(204);
        Response switched = register("switching-host", fresh.token());
        assertThat(switched.status()).as(switched.text()).isEqualTo(200);
        assertThat(switched.json().path("id").asString()).as("the same agent").isEqualTo(id);
        assertThat(switched.json().path("registeredBy").asString()).isEqualTo("switch-new");
        assertThat(leaseStatus(id, fresh.token())).isEqualTo(204);
        assertThat(leaseStatus(id, old.token())).isEqualTo(401);

        // the result reported under the old token is still there, still this host's
        JsonNode results = results("switch-results", v);
        assertThat(results).hasSize(1);
        assertThat(results.get(0).path("provenance").path("hostName").asString()).isEqualTo("switching-host");
        assertThat(jdbc.sql("SELECT agent_id::text FROM job_result r JOIN job j ON j.id = r.job_id WHERE j.id = ?")
                .param(lease.path("jobId").asLong()).query(String.class).single()).isEqualTo(id);
        assertThat(agentsNamed("switching-host")).isEqualTo(1);
    }

    @Test
    void anAdminHandsALiveHostToAnotherToken() {
        Minted old = mint("handover-old", "agent");
        Minted fresh = mint("handover-new", "agent");
        String id = register("handover-host", old.token()).json().path("id").asString();
        assertThat(register("handover-host", fresh.token()).status()).isEqualTo(409);

        // only an admin hands over, only to a live agent token, only an agent that exists
        Response byAgent = send("PUT", "/api/v1/agents/" + id + "/token", old.token(), Map.of("tokenId", fresh.id()));
        assertThat(byAgent.status()).isEqualTo(403);
        assertThat(byAgent.problem()).isEqualTo("forbidden-role");
        Response noToken = send("PUT", "/api/v1/agents/" + id + "/token", ADMIN, Map.of());
        assertThat(noToken.status()).isEqualTo(400);
        assertThat(noToken.problem()).isEqualTo("invalid-handover");
        Response unknown = send("PUT", "/api/v1/agents/" + id + "/token", ADMIN, Map.of("tokenId", 99_999_999));
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.problem()).isEqualTo("token-not-found");
        Minted reader = mint("handover-reader", "reader");
        Response wrongRole = send("PUT", "/api/v1/agents/" + id + "/token", ADMIN, Map.of("tokenId", reader.id()));
        assertThat(wrongRole.status()).isEqualTo(400);
        assertThat(wrongRole.json().path("detail").asString()).contains("role 'reader'");
        Minted revoked = mint("handover-revoked", "agent");
        send("DELETE", "/api/v1/tokens/" + revoked.id(), ADMIN, null);
        Response dead = send("PUT", "/api/v1/agents/" + id + "/token", ADMIN, Map.of("tokenId", revoked.id()));
        assertThat(dead.status()).isEqualTo(400);
        assertThat(dead.json().path("detail").asString()).contains("revoked");
        Response noAgent = send("PUT", "/api/v1/agents/00000000-0000-0000-0000-000000000000/token", ADMIN,
                Map.of("tokenId", fresh.id()));
        assertThat(noAgent.status()).isEqualTo(404);
        assertThat(noAgent.problem()).isEqualTo("agent-not-found");
        assertThat(leaseStatus(id, old.token())).as("the refusals changed nothing").isEqualTo(204);

        Response handed = send("PUT", "/api/v1/agents/" + id + "/token", ADMIN, Map.of("tokenId", fresh.id()));
        assertThat(handed.status()).as(handed.text()).isEqualTo(200);
        assertThat(handed.json().path("id").asString()).isEqualTo(id);
        // the old token is refused at once (the identity cache is dropped on commit), the new one acts
        assertThat(leaseStatus(id, old.token())).isEqualTo(403);
        assertThat(leaseStatus(id, fresh.token())).isEqualTo(204);
        Response registered = register("handover-host", fresh.token());
        assertThat(registered.status()).as(registered.text()).isEqualTo(200);
        assertThat(registered.json().path("id").asString()).isEqualTo(id);
        assertThat(register("handover-host", old.token()).status()).as("and now the old token is the outsider")
                .isEqualTo(409);
    }

    /**
     * The device agent's own loop and client against the refusal: one ERROR line carrying the registry's detail
     * (which names the fix), quiet slow retries meanwhile (no line per try), and the agent comes up by itself, as
     * the same agent, once the old token is revoked.
     */
    @Test
    void theDeviceAgentLogsTheRefusalOnceAndComesUpAfterTheSwitch() throws Exception {
        Minted old = mint("agent-loop-old", "agent");
        Minted fresh = mint("agent-loop-new", "agent");
        Response first = register("agent-loop-host", old.token());
        assertThat(first.status()).as(first.text()).isEqualTo(200);
        String id = first.json().path("id").asString();

        Logger logger = (Logger) LoggerFactory.getLogger(AgentLoop.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Level level = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        logger.addAppender(logs);
        HostFacts host = new HostFacts("agent-loop-host", "macOS", "15.1", "24B83", "arm64", "Apple M1", 16L << 30, null,
                List.of(Runtimes.COREML));
        AgentLoop loop = new AgentLoop(
                new HttpRegistryClient(URI.create("http://127.0.0.1:" + port), fresh.token(), Duration.ofSeconds(30)), host,
                lease -> {
                    throw new AssertionError("no job matches Core ML without a chip");
                }, Duration.ofMillis(300), Duration.ofMillis(100));
        try {
            loop.start();
            // tries after 0, 0.1, 0.3, 0.7 s: the pause doubles
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (refusals(logs) < 4 && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(refusals(logs)).as(messages(logs)).isGreaterThanOrEqualTo(4);
            assertThat(loop.agentId()).isNull();
            assertThat(loop.registrationRefused().orElseThrow())
                    .contains("409 host-owned-by-another-token", "DELETE /api/v1/tokens/" + old.id());
            List<ILoggingEvent> errors = at(logs, Level.ERROR);
            assertThat(errors).as(messages(logs)).hasSize(1);
            assertThat(errors.get(0).getFormattedMessage()).contains("agent-loop-host", "409 host-owned-by-another-token",
                    "PUT /api/v1/agents/" + id + "/token {\"tokenId\": " + fresh.id() + "}", "every PT1M");
            assertThat(at(logs, Level.WARN)).as("a refusal is no outage to warn about per try").isEmpty();
            assertThat(agentRow("agent-loop-host").path("registeredBy").asString()).isEqualTo("agent-loop-old");

            assertThat(send("DELETE", "/api/v1/tokens/" + old.id(), ADMIN, null).status()).isEqualTo(204);
            assertThat(loop.awaitRegistered(Duration.ofSeconds(20))).as(messages(logs)).isTrue();
            assertThat(loop.agentId()).as("the same agent").isEqualTo(id);
            assertThat(loop.registrationRefused()).isEmpty();
            assertThat(agentRow("agent-loop-host").path("registeredBy").asString()).isEqualTo("agent-loop-new");
            assertThat(at(logs, Level.ERROR)).hasSize(1);
            assertThat(at(logs, Level.INFO)).extracting(ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> m.contains("agent-loop-host accepted after"));
        } finally {
            loop.halt();
            logger.detachAppender(logs);
            logger.setLevel(level);
        }
    }

    private static long refusals(ListAppender<ILoggingEvent> logs) {
        return List.copyOf(logs.list).stream().filter(e -> e.getFormattedMessage().contains("refused")).count();
    }

    private static List<ILoggingEvent> at(ListAppender<ILoggingEvent> logs, Level level) {
        return List.copyOf(logs.list).stream().filter(e -> e.getLevel() == level).toList();
    }

    private static String messages(ListAppender<ILoggingEvent> logs) {
        return String.join("\n", List.copyOf(logs.list).stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList());
    }

    /** Leases until a job of {@code model} comes up, failing other tests' leftovers on the way. */
    private JsonNode leaseOwn(String agentId, String token, String model) {
        for (int i = 0; i < 1000; i++) {
            Response r = send("POST", "/api/v1/agents/" + agentId + "/lease", token, null);
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            JsonNode l = r.json();
            if (l.path("model").asString().equals(model)) return l;
            assertThat(send("POST", "/api/v1/agents/" + agentId + "/jobs/" + l.path("jobId").asLong() + "/result", token,
                    Map.of("leaseId", l.path("leaseId").asString(), "outcome", "failed", "failure",
                            "consumed by " + getClass().getSimpleName())).status()).isEqualTo(201);
        }
        throw new AssertionError("no job of " + model);
    }
}
