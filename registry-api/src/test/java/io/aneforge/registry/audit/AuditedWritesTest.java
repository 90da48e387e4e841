package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The writes audited since the audit table's first list: model and version creation, variant registration, golden
 * data, conversion cancel, agent registration and handover. Each leaves exactly one row naming its actor, action and
 * target; a repeat that changed nothing and a refused write leave none.
 */
class AuditedWritesTest extends AuditTestSupport {

    private static String rid(String what) {
        return "audited-" + what + "-" + UUID.randomUUID();
    }

    private Response call(String method, String path, String token, Object body, String requestId) {
        return send(method, path, token, body, "X-Request-Id", requestId);
    }

    /** An M2 reference-cpu host's registration, naming no golden data format. */
    private static Map<String, Object> host(String name) {
        return registrationBody(name, "M2", List.of("reference-cpu"), null);
    }

    private long rows(String model) {
        return jdbc.sql("SELECT count(*) FROM audit_event WHERE model = ?").param(model).query(Long.class).single();
    }

    @Test
    void modelVersionVariantAndGoldenWritesLeaveOneRowEachAndRepeatsNone() {
        String m = "audited-" + Long.toHexString(System.nanoTime());
        String create = rid("model");
        assertThat(call("POST", "/api/v1/models", publisher(), Map.of("name", m, "task", "feature-extraction"), create)
                .status()).isEqualTo(201);
        JsonNode model = auditEvent(create, "model.create", "test-publisher");
        assertThat(model.path("model").asString()).isEqualTo(m);
        assertThat(model.path("version").isNull()).isTrue();
        assertThat(model.path("actorRole").asString()).isEqualTo("publisher");
        assertThat(model.path("detail").path("task").asString()).isEqualTo("feature-extraction");
        assertThat(model.path("detail").path("owner").asString()).isEqualTo("test-publisher");
        String again = rid("model-again");
        assertThat(call("POST", "/api/v1/models", publisher(), Map.of("name", m, "task", "feature-extraction"), again)
                .status()).as("model-exists").isEqualTo(409);
        assertThat(auditEvents(again)).isEmpty();

        String version = rid("version");
        Response created = call("POST", "/api/v1/models/" + m + "/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/audited", "revision", "main")), version);
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        int v = created.json().path("version").asInt();
        JsonNode versionEvent = auditEvent(version, "version.create", "test-publisher");
        assertThat(versionEvent.path("model").asString()).isEqualTo(m);
        assertThat(versionEvent.path("version").asInt()).isEqualTo(v);
        assertThat(versionEvent.path("detail").path("repo").asString()).isEqualTo("org/audited");
        String badSource = rid("version-bad");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions", publisher(),
                Map.of("source", Map.of("type", "ftp")), badSource).status()).isEqualTo(400);
        assertThat(auditEvents(badSource)).isEmpty();

        String digest = upload(mlpackage("audited-variant-" + m));
        Map<String, Object> variant = Map.of("chip", "A17_PRO", "deploymentTarget", "18.0", "layout", "ane",
                "precision", "fp16", "seqLen", 128, "digest", digest);
        String register = rid("variant");
        Response registered = call("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants", token("worker"), variant,
                register);
        assertThat(registered.status()).as(registered.text()).isEqualTo(201);
        JsonNode variantEvent = auditEvent(register, "variant.register", "test-worker");
        assertThat(variantEvent.path("actorRole").asString()).isEqualTo("worker");
        assertThat(variantEvent.path("version").asInt()).isEqualTo(v);
        assertThat(variantEvent.path("variant").asLong()).isEqualTo(registered.json().path("id").asLong());
        assertThat(variantEvent.path("detail").path("digest").asString()).isEqualTo(digest);
        String duplicate = rid("variant-again");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants", publisher(), variant, duplicate)
                .status()).as("variant-exists").isEqualTo(409);
        assertThat(auditEvents(duplicate)).isEmpty();

        String in = upload(goldenBlob("input_ids", 101, 2023, 102, 0));
        String out = upload(goldenBlob("last_hidden_state", 0.5f, -0.25f, 1f, 2f));
        String golden = rid("golden");
        String goldenPath = "/api/v1/models/" + m + "/versions/" + v + "/golden";
        assertThat(call("PUT", goldenPath, publisher(), Map.of("inputs", in, "outputs", out), golden).status()).isEqualTo(200);
        JsonNode goldenEvent = auditEvent(golden, "golden.put", "test-publisher");
        assertThat(goldenEvent.path("version").asInt()).isEqualTo(v);
        assertThat(goldenEvent.path("detail").path("inputs").asString()).isEqualTo(in);
        assertThat(goldenEvent.path("detail").path("outputs").asString()).isEqualTo(out);
        String goldenAgain = rid("golden-again");
        assertThat(call("PUT", goldenPath, publisher(), Map.of("inputs", in, "outputs", out), goldenAgain).status())
                .as("the same blobs again: idempotent").isEqualTo(200);
        assertThat(auditEvents(goldenAgain)).isEmpty();

        publish(m, v);
        String otherOutputs = upload(goldenBlob("last_hidden_state", 9f, 9f, 9f, 9f));
        String goldenRefused = rid("golden-refused");
        assertThat(call("PUT", goldenPath, publisher(), Map.of("inputs", in, "outputs", otherOutputs), goldenRefused)
                .status()).as("version-immutable").isEqualTo(409);
        assertThat(auditEvents(goldenRefused)).isEmpty();

        // the model's trail: create, version, variant, golden data, publish; nothing for the repeats and refusals
        List<String> actions = new java.util.ArrayList<>();
        get("/api/v1/audit?model=" + m, ADMIN).json().path("events").forEach(e -> actions.add(e.path("action").asString()));
        assertThat(actions).containsExactly("version.publish", "golden.put", "variant.register", "version.create",
                "model.create");
        assertThat(rows(m)).isEqualTo(5L);
    }

    @Test
    void aCancelledConversionLeavesOneRowAndASecondCancelNone() {
        String m = "audited-conv-" + Long.toHexString(System.nanoTime());
        createModel(m);
        String version = rid("conversion-version");
        Response created = call("POST", "/api/v1/models/" + m + "/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/" + m, "revision", "main"), "chips", List.of("M2")),
                version);
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        int v = created.json().path("version").asInt();
        JsonNode versionEvent = auditEvent(version, "version.create", "test-publisher");
        assertThat(versionEvent.path("detail").path("chips").toString()).isEqualTo("[\"M2\"]");
        long id = get("/api/v1/models/" + m + "/versions/" + v + "/conversion", reader()).json().path("id").asLong();

        String cancel = rid("cancel");
        assertThat(call("POST", "/api/v1/conversions/" + id + "/cancel", publisher(), null, cancel).status()).isEqualTo(200);
        JsonNode cancelled = auditEvent(cancel, "conversion.cancel", "test-publisher");
        assertThat(cancelled.path("model").asString()).isEqualTo(m);
        assertThat(cancelled.path("version").asInt()).isEqualTo(v);
        assertThat(cancelled.path("detail").path("conversion").asLong()).isEqualTo(id);
        String again = rid("cancel-again");
        assertThat(call("POST", "/api/v1/conversions/" + id + "/cancel", publisher(), null, again).status())
                .as("conversion-finished").isEqualTo(409);
        assertThat(auditEvents(again)).isEmpty();
        assertThat(rows(m)).as("model.create, version.create, conversion.cancel").isEqualTo(3L);
    }

    @Test
    void agentRegistrationAndHandoverAreAuditedWhenTheyChangeWhoTheHostIs() {
        String host = "audited-host-" + UUID.randomUUID();
        Minted first = mint("audited-agent-a-" + host, "agent");
        Minted second = mint("audited-agent-b-" + host, "agent");

        String register = rid("register");
        Response registered = call("POST", "/api/v1/agents", first.token(), host(host), register);
        assertThat(registered.status()).as(registered.text()).isEqualTo(200);
        String agentId = registered.json().path("id").asString();
        JsonNode event = auditEvent(register, "agent.register", "audited-agent-a-" + host);
        assertThat(event.path("actorTokenId").asLong()).isEqualTo(first.id());
        assertThat(event.path("detail").path("agentId").asString()).isEqualTo(agentId);
        assertThat(event.path("detail").path("hostName").asString()).isEqualTo(host);
        assertThat(event.path("detail").path("new").asBoolean()).isTrue();

        // a restart with the host's own token is not a change of who the host is: no agent.register; one whose
        // facts changed is an agent.restart (AuditGapsTest), one that changed nothing leaves nothing
        Map<String, Object> restarted = host(host);
        restarted.put("osBuild", "24C101");
        String restart = rid("restart");
        assertThat(call("POST", "/api/v1/agents", first.token(), restarted, restart).status()).isEqualTo(200);
        assertThat(auditEvents(restart)).extracting(e -> e.path("action").asString()).containsExactly("agent.restart");
        String unchanged = rid("restart-unchanged");
        assertThat(call("POST", "/api/v1/agents", first.token(), restarted, unchanged).status()).isEqualTo(200);
        assertThat(auditEvents(unchanged)).isEmpty();
        // another live token may not take the host: refused, nothing recorded
        String takeover = rid("takeover");
        assertThat(call("POST", "/api/v1/agents", second.token(), host(host), takeover).status()).isEqualTo(409);
        assertThat(auditEvents(takeover)).isEmpty();

        String handover = rid("handover");
        Response handed = call("PUT", "/api/v1/agents/" + agentId + "/token", ADMIN, Map.of("tokenId", second.id()), handover);
        assertThat(handed.status()).as(handed.text()).isEqualTo(200);
        JsonNode handoverEvent = auditEvent(handover, "agent.handover", "bootstrap-admin");
        assertThat(handoverEvent.path("detail").path("agentId").asString()).isEqualTo(agentId);
        assertThat(handoverEvent.path("detail").path("fromTokenId").asLong()).isEqualTo(first.id());
        assertThat(handoverEvent.path("detail").path("toTokenId").asLong()).isEqualTo(second.id());
        assertThat(handoverEvent.toString()).doesNotContain(first.token()).doesNotContain(second.token());
        String handoverAgain = rid("handover-again");
        assertThat(call("PUT", "/api/v1/agents/" + agentId + "/token", ADMIN, Map.of("tokenId", second.id()), handoverAgain)
                .status()).isEqualTo(200);
        assertThat(auditEvents(handoverAgain)).as("the host is with that token already").isEmpty();
        String wrongRole = rid("handover-refused");
        assertThat(call("PUT", "/api/v1/agents/" + agentId + "/token", ADMIN, Map.of("tokenId", mint("audited-reader-" + host,
                "reader").id()), wrongRole).status()).isEqualTo(400);
        assertThat(auditEvents(wrongRole)).isEmpty();

        // the new token registering the host it was handed: the handover already bound it, nothing changes
        String byNewToken = rid("register-new-token");
        // (with the facts it last reported: changed ones would be an agent.restart)
        assertThat(call("POST", "/api/v1/agents", second.token(), restarted, byNewToken).status()).isEqualTo(200);
        assertThat(auditEvents(byNewToken)).isEmpty();
        // once the owner's token is revoked another agent token may take the host: that registration changes its token
        assertThat(send("DELETE", "/api/v1/tokens/" + second.id(), ADMIN, null).status()).isEqualTo(204);
        Minted third = mint("audited-agent-c-" + host, "agent");
        String takenOver = rid("register-after-revoke");
        assertThat(call("POST", "/api/v1/agents", third.token(), host(host), takenOver).status()).isEqualTo(200);
        JsonNode rebound = auditEvent(takenOver, "agent.register", "audited-agent-c-" + host);
        assertThat(rebound.path("detail").path("new").asBoolean()).isFalse();
        assertThat(rebound.path("detail").path("fromTokenId").asLong()).isEqualTo(second.id());

        assertThat(jdbc.sql("SELECT count(*) FROM audit_event WHERE detail->>'agentId' = ?").param(agentId)
                .query(Long.class).single()).as("register, restart, handover, register after the revoke").isEqualTo(4L);
    }
}
