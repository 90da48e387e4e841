package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.JsonNode;

/**
 * The audit trail's gaps closed by V32: 401s (with a fingerprint of the presented token, never the token, and a cap
 * on distinct fingerprints per hour), refused reads and 400/422 to writes are counted in audit_refusal beside the
 * refused writes; a clean lease hand-back names its holder in the job's releasedLeases; an agent restart with its
 * own token is an agent.restart event when its facts changed or it was offline.
 */
@ExtendWith(OutputCaptureExtension.class)
class AuditGapsTest extends AuditTestSupport {

    private static String rid(String what) {
        return "gaps-" + what + "-" + UUID.randomUUID();
    }

    @Test
    void unauthenticatedRequestsAreCountedWithAFingerprintNeverTheToken(CapturedOutput out) {
        refusedWrites.forgetFingerprints(); // other tests' made-up tokens of this hour may have filled the cap
        String none = rid("no-token");
        assertThat(send("GET", "/api/v1/models", null, null, "X-Request-Id", none).status()).isEqualTo(401);
        JsonNode anonymous = oneRefusalOf(none);
        assertThat(anonymous.path("kind").asString()).isEqualTo("unauthenticated");
        assertThat(anonymous.path("status").asInt()).isEqualTo(401);
        assertThat(anonymous.path("problemType").asString()).isEqualTo("unauthenticated");
        assertThat(anonymous.path("method").asString()).isEqualTo("GET");
        assertThat(anonymous.path("route").asString()).isEqualTo("/api/v1/models");
        assertThat(anonymous.path("actor").isNull()).isTrue();
        assertThat(anonymous.path("actorRole").isNull()).isTrue();
        assertThat(anonymous.path("tokenFingerprint").isNull()).as("no token, nothing to fingerprint").isTrue();

        // a revoked token: its 401s are matched to its row by the fingerprint, a prefix of the stored hash
        Minted minted = mint("gaps-revoked-" + UUID.randomUUID(), "publisher");
        String secret = minted.token();
        long id = minted.id();
        assertThat(send("DELETE", "/api/v1/tokens/" + id, ADMIN, null).status()).isEqualTo(204);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String r = rid("revoked-" + i);
            ids.add(r);
            assertThat(send("POST", "/api/v1/models", secret, Map.of("name", "gaps-x", "task", "feature-extraction"),
                    "X-Request-Id", r).status()).isEqualTo(401);
        }
        JsonNode revoked = oneRefusalOf(ids.get(0));
        assertThat(revoked.path("count").asLong()).as("three 401s of one token and endpoint, one row").isEqualTo(3);
        assertThat(revoked.path("lastRequestId").asString()).isEqualTo(ids.get(2));
        assertThat(revoked.path("problemType").asString()).isEqualTo("invalid-token");
        String fingerprint = revoked.path("tokenFingerprint").asString();
        assertThat(fingerprint).isEqualTo("sha256:" + sha256(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .substring(0, 12));
        assertThat(jdbc.sql("SELECT id FROM api_token WHERE token_sha256 LIKE ?")
                .param(fingerprint.substring("sha256:".length()) + "%").query(Long.class).list()).containsExactly(id);
        assertThat(refusals("kind=unauthenticated&tokenFingerprint=" + fingerprint))
                .extracting(r -> r.path("id").asLong()).containsExactly(revoked.path("id").asLong());
        assertThat(refusals("status=401&requestId=" + none)).hasSize(1);

        // the secret is in no row and no line; the fingerprint is in each request's line
        assertThat(jdbc.sql("SELECT count(*) FROM audit_refusal r WHERE CAST(r AS text) LIKE ?")
                .param("%" + secret + "%").query(Long.class).single()).isZero();
        assertThat(out.getAll()).doesNotContain(secret);
        String lines = String.join("\n", out.getAll().lines().filter(l -> l.contains(ids.get(1))).toList());
        assertThat(lines).contains("refused status=401 type=invalid-token").contains("kind=unauthenticated")
                .contains("tokenFingerprint=" + fingerprint).contains("actor=-");
    }

    @Test
    void aFloodOfMadeUpTokensCountsPastTheCapInOneBucket() {
        String route = "/gaps-cap-" + UUID.randomUUID();
        int n = RefusedWrites.MAX_FINGERPRINTS_PER_HOUR + 25;
        refusedWrites.forgetFingerprints();
        for (int i = 0; i < n; i++) {
            refusedWrites.record(new RefusedWrites.Refusal(RefusedWrites.Kind.UNAUTHENTICATED, null,
                    RefusedWrites.fingerprint("made-up-" + UUID.randomUUID()), "GET", route, route, null, 401,
                    "invalid-token", "the bearer token is unknown or revoked", "cap-" + i));
        }
        refusedWrites.flush();
        List<Map<String, Object>> rows = jdbc.sql("SELECT token_fingerprint, count FROM audit_refusal WHERE route = ?")
                .param(route).query().listOfRows();
        long total = rows.stream().mapToLong(r -> ((Number) r.get("count")).longValue()).sum();
        assertThat(total).as("every 401 counted").isEqualTo(n);
        assertThat(rows.stream().filter(r -> !RefusedWrites.OTHER_TOKENS.equals(r.get("token_fingerprint"))).count())
                .isLessThanOrEqualTo(RefusedWrites.MAX_FINGERPRINTS_PER_HOUR);
        assertThat(rows).filteredOn(r -> RefusedWrites.OTHER_TOKENS.equals(r.get("token_fingerprint"))).hasSize(1)
                .allSatisfy(r -> assertThat(((Number) r.get("count")).longValue()).isEqualTo(25));
        assertThat(rows).hasSize(RefusedWrites.MAX_FINGERPRINTS_PER_HOUR + 1);
        refusedWrites.forgetFingerprints(); // the cap filled here is not the other tests' concern
    }

    @Test
    void refusedReadsAndInvalidWritesAreCountedWithTheirKind() {
        String read = rid("read");
        assertThat(get("/api/v1/audit", reader(), "X-Request-Id", read).status()).isEqualTo(403);
        JsonNode r = oneRefusalOf(read);
        assertThat(r.path("kind").asString()).isEqualTo("refused-read");
        assertThat(r.path("problemType").asString()).isEqualTo("forbidden-role");
        assertThat(r.path("actor").asString()).isEqualTo("test-reader");
        assertThat(r.path("method").asString()).isEqualTo("GET");
        assertThat(r.path("tokenFingerprint").isNull()).isTrue();

        String invalid = rid("invalid");
        Response bad = send("POST", "/api/v1/models", publisher(), Map.of("name", "Not A Valid Name!", "task",
                "feature-extraction"), "X-Request-Id", invalid);
        assertThat(bad.status()).as(bad.text()).isEqualTo(400);
        JsonNode w = oneRefusalOf(invalid);
        assertThat(w.path("kind").asString()).isEqualTo("invalid-write");
        assertThat(w.path("status").asInt()).isEqualTo(400);
        assertThat(w.path("actorRole").asString()).isEqualTo("publisher");
        assertThat(w.path("lastDetail").asString()).isNotEmpty();
        assertThat(auditEvents(invalid)).as("a refusal is never an audit event").isEmpty();
        assertThat(refusals("kind=invalid-write&requestId=" + invalid)).hasSize(1);
        assertThat(refusals("kind=refused-write&requestId=" + invalid)).isEmpty();

        // a read's 400 (a bad query) is not recorded: only writes' bad input is
        String query = rid("query");
        assertThat(get("/api/v1/audit?limit=abc", ADMIN, "X-Request-Id", query).status()).isEqualTo(400);
        assertThat(refusals("requestId=" + query)).isEmpty();

        Response badKind = get("/api/v1/audit/refusals?kind=nope", ADMIN);
        assertThat(badKind.status()).isEqualTo(400);
        assertThat(badKind.text()).contains("kind").contains("unauthenticated");
        assertThat(get("/api/v1/audit/refusals?status=abc", ADMIN).status()).isEqualTo(400);
    }

    @Test
    void aKindsStatusesAndCallers() {
        assertThat(RefusedWrites.Kind.of(422, false, true)).isEqualTo(RefusedWrites.Kind.INVALID_WRITE);
        assertThat(RefusedWrites.Kind.of(409, false, true)).isEqualTo(RefusedWrites.Kind.REFUSED_WRITE);
        assertThat(RefusedWrites.Kind.of(409, true, true)).as("a read's 409").isNull();
        assertThat(RefusedWrites.Kind.of(404, false, true)).isNull();
        assertThat(RefusedWrites.Kind.of(403, true, false)).as("a signed URL refused: no token").isNull();
        assertThat(RefusedWrites.Kind.of(401, true, false)).isEqualTo(RefusedWrites.Kind.UNAUTHENTICATED);
    }

    @Test
    void aCleanReleaseNamesItsHolderInTheJobsReleasedLeases() {
        String m = "gaps-release-" + Long.toHexString(System.nanoTime());
        int v = leasableVariant(m, "A17_PRO", 128, List.of("cpuAndNeuralEngine")).version();
        String host = "gaps-releaser-" + Long.toHexString(System.nanoTime());
        String agent = registerAgent(host, "A17_PRO", List.of("coreml"));
        JsonNode lease = leaseFailingOthers(agent, host, m); // another test's leftover is failed on the way
        long jobId = lease.path("jobId").asLong();
        Response released = send("POST", "/api/v1/agents/" + agent + "/jobs/" + jobId + "/release", agentToken(),
                Map.of("leaseId", lease.path("leaseId").asString(), "reason", "draining"));
        assertThat(released.status()).as(released.text()).isEqualTo(200);
        assertThat(released.json().path("outcome").asString()).isEqualTo("released");

        JsonNode job = job(m, v, jobId);
        assertThat(job.path("state").asString()).isEqualTo("pending");
        assertThat(job.path("attempts").asInt()).as("no attempt spent").isZero();
        JsonNode held = job.path("releasedLeases");
        assertThat(held.size()).isEqualTo(1);
        assertThat(held.get(0).path("agent").asString()).isEqualTo(host);
        assertThat(held.get(0).path("releases").asInt()).isEqualTo(1);
        assertThat(held.get(0).path("lastAttempt").asInt()).isEqualTo(lease.path("attempt").asInt());
        assertThat(held.get(0).path("lastReason").asString()).isEqualTo("draining");

        // the same agent again, for trouble: the same row counts it
        JsonNode again = leaseFailingOthers(agent, host, "job " + jobId, l -> l.path("jobId").asLong() == jobId,
                () -> lease(agent));
        assertThat(send("POST", "/api/v1/agents/" + agent + "/jobs/" + jobId + "/release", agentToken(),
                Map.of("leaseId", again.path("leaseId").asString(), "reason", "transfer failed", "trouble", true))
                .json().path("outcome").asString()).isEqualTo("released");
        JsonNode twice = job(m, v, jobId).path("releasedLeases");
        assertThat(twice.size()).isEqualTo(1);
        assertThat(twice.get(0).path("releases").asInt()).isEqualTo(2);
        assertThat(twice.get(0).path("lastReason").asString()).isEqualTo("transfer failed");
    }

    /** An M2 coreml host's registration with {@code osBuild}, naming no golden data format (as older agents do). */
    private static Map<String, Object> registration(String host, String osBuild) {
        Map<String, Object> body = registrationBody(host, "M2", List.of("coreml"), null);
        body.put("osBuild", osBuild);
        return body;
    }

    @Test
    void anAgentRestartIsAuditedWhenItsFactsChangedOrItWasOffline() {
        String host = "gaps-restart-" + Long.toHexString(System.nanoTime());
        Response first = send("POST", "/api/v1/agents", agentToken(), registration(host, "24B83"));
        assertThat(first.status()).as(first.text()).isEqualTo(200);
        String agent = first.json().path("id").asString();

        String same = rid("same");
        assertThat(send("POST", "/api/v1/agents", agentToken(), registration(host, "24B83"), "X-Request-Id", same)
                .status()).isEqualTo(200);
        assertThat(auditEvents(same)).as("an online agent's restart that changed nothing").isEmpty();

        String upgraded = rid("upgraded");
        Response r = send("POST", "/api/v1/agents", agentToken(), registration(host, "24C101"), "X-Request-Id", upgraded);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("id").asString()).as("a restart keeps its id").isEqualTo(agent);
        JsonNode e = auditEvent(upgraded, "agent.restart", "test-agent");
        assertThat(e.path("detail").path("agentId").asString()).isEqualTo(agent);
        assertThat(e.path("detail").path("hostName").asString()).isEqualTo(host);
        assertThat(e.path("detail").path("wasOffline").asBoolean()).isFalse();
        JsonNode changed = e.path("detail").path("changed");
        assertThat(changed.propertyNames()).containsExactly("osBuild");
        assertThat(changed.path("osBuild").path("before").asString()).isEqualTo("24B83");
        assertThat(changed.path("osBuild").path("after").asString()).isEqualTo("24C101");

        // not heard from for longer than aneforge.agents.offline-after: its return is audited, facts unchanged
        jdbc.sql("UPDATE agent SET last_seen_at = now() - INTERVAL '1 day' WHERE host_name = ?").param(host).update();
        String back = rid("back");
        assertThat(send("POST", "/api/v1/agents", agentToken(), registration(host, "24C101"), "X-Request-Id", back)
                .status()).isEqualTo(200);
        JsonNode returned = auditEvent(back, "agent.restart", "test-agent");
        assertThat(returned.path("detail").path("wasOffline").asBoolean()).isTrue();
        assertThat(returned.path("detail").path("changed").size()).isZero();
        assertThat(get("/api/v1/audit?action=agent.restart", ADMIN).status()).isEqualTo(200);
    }
}
