package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The writes audited since the refused-write trail: blob uploads (blob.put), agent drains (agent.drain, agent.resume)
 * and job reports (job.report). Each leaves one row naming its actor and what it stored; a repeat that stored nothing
 * leaves none, and a lease leaves none (the job's rows say who ran it).
 */
class AuditedUploadsDrainsReportsTest extends AuditTestSupport {

    private static String rid(String what) {
        return "audited-" + what + "-" + UUID.randomUUID();
    }

    @Test
    void aNewBlobLeavesOneRowWithItsDigestSizeAndTypeAndARepeatNone() {
        byte[] bytes = ("audited blob " + UUID.randomUUID()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String hex = sha256(bytes);
        String first = rid("blob");
        Response put = send("PUT", "/api/v1/blobs/sha256:" + hex, token("worker"), bytes, "X-Request-Id", first,
                "Content-Type", "application/zip");
        assertThat(put.status()).as(put.text()).isEqualTo(201);
        JsonNode e = auditEvent(first, "blob.put", "test-worker");
        assertThat(e.path("actorRole").asString()).isEqualTo("worker");
        assertThat(e.path("model").isNull()).as("a blob belongs to no model until a write names it").isTrue();
        assertThat(e.path("detail").path("digest").asString()).isEqualTo("sha256:" + hex);
        assertThat(e.path("detail").path("size").asLong()).isEqualTo(bytes.length);
        assertThat(e.path("detail").path("mediaType").asString()).isEqualTo("application/zip");

        String again = rid("blob-again");
        Response repeat = send("PUT", "/api/v1/blobs/sha256:" + hex, publisher(), bytes, "X-Request-Id", again);
        assertThat(repeat.status()).as("already stored: idempotent").isEqualTo(200);
        assertThat(auditEvents(again)).isEmpty();

        String mismatch = rid("blob-mismatch");
        Response bad = send("PUT", "/api/v1/blobs/sha256:" + "0".repeat(64), publisher(), bytes, "X-Request-Id", mismatch);
        assertThat(bad.status()).as("digest-mismatch").isEqualTo(400);
        assertThat(auditEvents(mismatch)).isEmpty();
        assertThat(get("/api/v1/audit?action=blob.put", ADMIN).json().path("events").toString()).contains(hex);
    }

    @Test
    void concurrentDrainsOfOneAgentAreAuditedOnce() throws Exception {
        String host = "audited-race-" + Long.toHexString(System.nanoTime());
        String agent = registerAgent(host, "M2", List.of("coreml"));
        // the agent's SIGTERM drain, an admin's and retries at once: one change, so one agent.drain
        int callers = 8;
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < callers; i++) ids.add(rid("race-" + i));
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
        try {
            List<java.util.concurrent.Future<Integer>> answers = new java.util.ArrayList<>();
            for (int i = 0; i < callers; i++) {
                String id = ids.get(i);
                String token = i % 2 == 0 ? agentToken() : ADMIN;
                answers.add(pool.submit(() -> {
                    start.await();
                    return send("POST", "/api/v1/agents/" + agent + "/drain", token, Map.of("draining", true),
                            "X-Request-Id", id).status();
                }));
            }
            start.countDown();
            for (var a : answers) assertThat(a.get()).isEqualTo(200);
        } finally {
            pool.shutdownNow();
        }
        assertThat(jdbc.sql("SELECT count(*) FROM audit_event WHERE request_id = ANY(?) AND action = 'agent.drain'")
                .param(ids.toArray(String[]::new)).query(Long.class).single()).isEqualTo(1);
        assertThat(jdbc.sql("SELECT count(*) FROM audit_event WHERE request_id = ANY(?)")
                .param(ids.toArray(String[]::new)).query(Long.class).single()).as("nothing else either").isEqualTo(1);
    }

    @Test
    void aDrainAndAResumeLeaveOneRowEachAndARepeatNone() {
        String host = "audited-drain-" + Long.toHexString(System.nanoTime());
        String agent = registerAgent(host, "M2", List.of("coreml"));
        String drain = rid("drain");
        Response drained = send("POST", "/api/v1/agents/" + agent + "/drain", agentToken(), Map.of("draining", true),
                "X-Request-Id", drain);
        assertThat(drained.status()).as(drained.text()).isEqualTo(200);
        JsonNode e = auditEvent(drain, "agent.drain", "test-agent");
        assertThat(e.path("detail").path("agentId").asString()).isEqualTo(agent);
        assertThat(e.path("detail").path("hostName").asString()).isEqualTo(host);

        String repeat = rid("drain-again");
        assertThat(send("POST", "/api/v1/agents/" + agent + "/drain", agentToken(), Map.of("draining", true),
                "X-Request-Id", repeat).status()).isEqualTo(200);
        assertThat(auditEvents(repeat)).as("draining a draining agent changes nothing").isEmpty();

        String resume = rid("resume");
        assertThat(send("POST", "/api/v1/agents/" + agent + "/drain", ADMIN, Map.of("draining", false),
                "X-Request-Id", resume).status()).isEqualTo(200);
        JsonNode resumed = auditEvents(resume).get(0);
        assertThat(resumed.path("action").asString()).isEqualTo("agent.resume");
        assertThat(resumed.path("actorRole").asString()).isEqualTo("admin");
        assertThat(resumed.path("detail").path("agentId").asString()).isEqualTo(agent);

        // a SIGTERM drains the agent; its restart (a registration with its own token) ends the drain: audited too
        assertThat(send("POST", "/api/v1/agents/" + agent + "/drain", agentToken(), Map.of("draining", true)).status())
                .isEqualTo(200);
        String restart = rid("restart");
        Response registered = send("POST", "/api/v1/agents", agentToken(), registration(host), "X-Request-Id", restart);
        assertThat(registered.status()).as(registered.text()).isEqualTo(200);
        assertThat(registered.json().path("state").asString()).isNotEqualTo("draining");
        JsonNode ended = auditEvent(restart, "agent.resume", "test-agent");
        assertThat(ended.path("detail").path("registered").asBoolean()).isTrue();
        String again = rid("restart-again");
        assertThat(send("POST", "/api/v1/agents", agentToken(), registration(host), "X-Request-Id", again).status())
                .isEqualTo(200);
        assertThat(auditEvents(again)).as("a restart that ends no drain is not audited").isEmpty();
    }

    private static Map<String, Object> registration(String host) {
        // as registerAgent says (the golden data format too): a restart that changed a fact would be an
        // agent.restart too (AuditGapsTest)
        return registrationBody(host, "M2", List.of("coreml"), io.aneforge.eval.golden.GoldenOutputsCodec.VERSION);
    }

    @Test
    void anAcceptedReportLeavesOneRowOnItsModelAndALeaseOrARepeatNone() {
        String m = "audited-report-" + Long.toHexString(System.nanoTime());
        RegisteredVariant variant = leasableVariant(m, "A17_PRO", 128, List.of("cpuAndNeuralEngine"));
        int v = variant.version();
        long variantId = variant.id();
        String host = "audited-reporter-" + Long.toHexString(System.nanoTime());
        String agent = registerAgent(host, "A17_PRO", List.of("coreml"));

        String leaseRequest = rid("lease");
        // another test's leftover is failed on the way; no lease call, leftover or not, leaves an audit row
        JsonNode lease = leaseFailingOthers(agent, host, "a job of " + m, l -> l.path("model").asString().equals(m), () -> {
            Response r = send("POST", "/api/v1/agents/" + agent + "/lease", agentToken(), null, "X-Request-Id", leaseRequest);
            assertThat(auditEvents(leaseRequest)).as("leases are not audited").isEmpty();
            return r;
        });
        long jobId = lease.path("jobId").asLong();

        String reported = rid("report");
        String path = "/api/v1/agents/" + agent + "/jobs/" + jobId + "/result";
        Response ok = send("POST", path, agentToken(), validReport(lease, host), "X-Request-Id", reported);
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        JsonNode e = auditEvent(reported, "job.report", "test-agent");
        assertThat(e.path("model").asString()).isEqualTo(m);
        assertThat(e.path("version").asInt()).isEqualTo(v);
        assertThat(e.path("variant").asLong()).isEqualTo(variantId);
        assertThat(e.path("detail").path("jobId").asLong()).isEqualTo(jobId);
        assertThat(e.path("detail").path("agentId").asString()).isEqualTo(agent);
        assertThat(e.path("detail").path("hostName").asString()).isEqualTo(host);
        assertThat(e.path("detail").path("outcome").asString()).isEqualTo("succeeded");
        assertThat(e.path("detail").path("kind").asString()).isEqualTo("benchmark");
        assertThat(e.path("detail").path("attempt").asInt()).isEqualTo(1);

        String repeat = rid("report-again");
        assertThat(send("POST", path, agentToken(), validReport(lease, host), "X-Request-Id", repeat).status())
                .as("the stored result again").isEqualTo(200);
        assertThat(auditEvents(repeat)).isEmpty();
        assertThat(jdbc.sql("SELECT count(*) FROM audit_event WHERE action = 'job.report' AND model = ?").param(m)
                .query(Long.class).single()).isEqualTo(1L);
        // who ran it, without a lease row: the job's holder and the result's agent
        assertThat(jdbc.sql("SELECT CAST(leased_by AS text) FROM job WHERE id = ?").param(jobId).query(String.class)
                .single()).isEqualTo(agent);
        assertThat(jdbc.sql("SELECT CAST(agent_id AS text) FROM job_result WHERE job_id = ?").param(jobId)
                .query(String.class).single()).isEqualTo(agent);
    }
}
