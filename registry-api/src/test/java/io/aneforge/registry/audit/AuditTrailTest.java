package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * The audit table (V22): each audited write leaves one row with its actor and request id, in its own transaction
 * (a refused write leaves none), and GET /api/v1/audit reads them back, newest first, filtered and paged, to admins.
 * Agent retirement, accuracy re-runs and a conversion's publish are checked where those flows are set up
 * (AgentRetirementTest, AccuracyRerunTest, ConversionTest).
 */
class AuditTrailTest extends RegistryTestBase {

    @Autowired
    JdbcClient jdbc;

    /** A request id of its own for one call. */
    private static String rid(String what) {
        return "trail-" + what + "-" + UUID.randomUUID();
    }

    private Response call(String method, String path, String token, Object body, String requestId) {
        Response r = send(method, path, token, body, "X-Request-Id", requestId);
        assertThat(r.header("X-Request-Id")).isEqualTo(requestId);
        return r;
    }

    @Test
    void eachAuditedWriteLeavesOneRowWithActorAndRequestId() {
        String mintId = rid("mint");
        Response minted = call("POST", "/api/v1/tokens", ADMIN, Map.of("name", "trail-ci", "role", "publisher",
                "models", List.of("trail-*")), mintId);
        assertThat(minted.status()).as(minted.text()).isEqualTo(201);
        long tokenId = minted.json().path("id").asLong();
        String ci = minted.json().path("token").asString();
        JsonNode mint = auditEvent(mintId, "token.mint", "bootstrap-admin");
        assertThat(mint.path("actorTokenId").isNull()).as("the bootstrap admin has no token row").isTrue();
        assertThat(mint.path("actorRole").asString()).isEqualTo("admin");
        assertThat(mint.path("detail").path("tokenId").asLong()).isEqualTo(tokenId);
        assertThat(mint.path("detail").path("role").asString()).isEqualTo("publisher");
        assertThat(mint.path("detail").path("models").toString()).isEqualTo("[\"trail-*\"]");
        assertThat(mint.toString()).doesNotContain(ci);

        String m = "trail-" + Long.toHexString(System.nanoTime());
        assertThat(send("POST", "/api/v1/models", ci, Map.of("name", m, "task", "feature-extraction")).status()).isEqualTo(201);
        int v = createVersion(m);
        addVariant(m, v, "A17_PRO", "18.0", "ane", "fp16");
        addVariant(m, v, "A17_PRO", "18.0", "ane", "int8");

        String publishId = rid("publish");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions/" + v + "/publish", ci,
                "{\"withoutGoldenData\":true,\"reason\":\"audit trail test\"}", publishId).status()).isEqualTo(200);
        JsonNode publish = auditEvent(publishId, "version.publish", "trail-ci");
        assertThat(publish.path("detail").path("withoutGoldenData").asBoolean()).isTrue();
        assertThat(publish.path("detail").path("reason").asString()).isEqualTo("audit trail test");
        assertThat(publish.path("actorTokenId").asLong()).isEqualTo(tokenId);
        assertThat(publish.path("actorRole").asString()).isEqualTo("publisher");
        assertThat(publish.path("model").asString()).isEqualTo(m);
        assertThat(publish.path("version").asInt()).isEqualTo(v);

        // before the gates: with gates, a version published without golden data is INCOMPLETE (an alias move needs an admin)
        String moveId = rid("move");
        assertThat(call("PUT", "/api/v1/models/" + m + "/aliases/production", ci, Map.of("version", v, "reason", "first"),
                moveId).status()).isEqualTo(200);
        JsonNode move = auditEvent(moveId, "alias.move", "trail-ci");
        assertThat(move.path("version").asInt()).isEqualTo(v);
        assertThat(move.path("detail").path("alias").asString()).isEqualTo("production");
        assertThat(move.path("detail").path("reason").asString()).isEqualTo("first");
        assertThat(move.path("detail").path("override").asBoolean()).isFalse();

        String gatesId = rid("gates");
        assertThat(call("PUT", "/api/v1/models/" + m + "/gates", ci, "{\"maxArtifactBytes\":90000000}", gatesId).status())
                .isEqualTo(200);
        JsonNode gates = auditEvent(gatesId, "gates.put", "trail-ci");
        assertThat(gates.path("model").asString()).isEqualTo(m);
        assertThat(gates.path("detail").path("gates").path("maxArtifactBytes").asLong()).isEqualTo(90000000L);

        // refused writes leave no row: loosening gates needs an admin (403), yanking an aliased version is a 409
        String looserId = rid("looser");
        assertThat(call("PUT", "/api/v1/models/" + m + "/gates", ci, "{}", looserId).status()).isEqualTo(403);
        assertThat(auditEvents(looserId)).isEmpty();


        String refusedYankId = rid("refused-yank");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions/" + v + "/yank", ci, Map.of("reason", "r"), refusedYankId)
                .status()).isEqualTo(409);
        assertThat(auditEvents(refusedYankId)).isEmpty();

        long variantId = get("/api/v1/models/" + m + "/versions/" + v + "/variants", ci).json().get(1).path("id").asLong();
        String variantYankId = rid("variant-yank");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants/" + variantId + "/yank", ci,
                Map.of("reason", "bad int8"), variantYankId).status()).isEqualTo(200);
        JsonNode variantYank = auditEvent(variantYankId, "variant.yank", "trail-ci");
        assertThat(variantYank.path("model").asString()).isEqualTo(m);
        assertThat(variantYank.path("version").asInt()).isEqualTo(v);
        assertThat(variantYank.path("variant").asLong()).isEqualTo(variantId);
        assertThat(variantYank.path("detail").path("reason").asString()).isEqualTo("bad int8");
        // an idempotent repeat answers as the first did but changed nothing, so it leaves no row
        String variantYankAgainId = rid("variant-yank-again");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants/" + variantId + "/yank", ci,
                Map.of("reason", "bad int8, again"), variantYankAgainId).status()).isEqualTo(200);
        assertThat(auditEvents(variantYankAgainId)).isEmpty();

        String deleteId = rid("alias-delete");
        assertThat(call("DELETE", "/api/v1/models/" + m + "/aliases/production", ci, Map.of("reason", "withdrawn"), deleteId)
                .status()).isEqualTo(204);
        JsonNode delete = auditEvent(deleteId, "alias.delete", "trail-ci");
        assertThat(delete.path("detail").path("alias").asString()).isEqualTo("production");

        String yankId = rid("yank");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions/" + v + "/yank", ci, Map.of("reason", "superseded"), yankId)
                .status()).isEqualTo(200);
        JsonNode yank = auditEvent(yankId, "version.yank", "trail-ci");
        assertThat(yank.path("version").asInt()).isEqualTo(v);
        assertThat(yank.path("detail").path("reason").asString()).isEqualTo("superseded");
        String yankAgainId = rid("yank-again");
        assertThat(call("POST", "/api/v1/models/" + m + "/versions/" + v + "/yank", ci, Map.of("reason", "superseded, again"),
                yankAgainId).status()).isEqualTo(200);
        assertThat(auditEvents(yankAgainId)).isEmpty();

        String revokeId = rid("revoke");
        assertThat(call("DELETE", "/api/v1/tokens/" + tokenId, ADMIN, null, revokeId).status()).isEqualTo(204);
        assertThat(auditEvent(revokeId, "token.revoke", "bootstrap-admin").path("detail").path("tokenId").asLong())
                .isEqualTo(tokenId);
        String revokeAgainId = rid("revoke-again");
        assertThat(call("DELETE", "/api/v1/tokens/" + tokenId, ADMIN, null, revokeAgainId).status()).isEqualTo(204);
        assertThat(auditEvents(revokeAgainId)).isEmpty();
        assertThat(jdbc.sql("SELECT count(*) FROM audit_event WHERE action = 'token.revoke' AND detail->>'tokenId' = ?")
                .param(String.valueOf(tokenId)).query(Long.class).single()).isEqualTo(1L);
        String unknownRevokeId = rid("revoke-unknown");
        assertThat(call("DELETE", "/api/v1/tokens/999999999", ADMIN, null, unknownRevokeId).status()).isEqualTo(404);
        assertThat(auditEvents(unknownRevokeId)).isEmpty();

        // what the model's trail holds, newest first: the API and the table agree
        JsonNode page = get("/api/v1/audit?model=" + m, ADMIN).json();
        List<String> actions = new ArrayList<>();
        page.path("events").forEach(e -> actions.add(e.path("action").asString()));
        assertThat(actions).containsExactly("version.yank", "alias.delete", "variant.yank", "gates.put", "alias.move",
                "version.publish", "variant.register", "variant.register", "version.create", "model.create");
        assertThat(page.path("nextBefore").isNull()).isTrue();
        assertThat(jdbc.sql("SELECT count(*) FROM audit_event WHERE model = ?").param(m).query(Long.class).single()).isEqualTo(10L);
    }

    @Test
    void theTrailIsFilteredPagedAndAdminsOnly() {
        OffsetDateTime start = jdbc.sql("SELECT now()").query(OffsetDateTime.class).single();
        String m = "trail-pages-" + Long.toHexString(System.nanoTime());
        createModel(m);
        for (int i = 0; i < 5; i++) {
            Response r = send("PUT", "/api/v1/models/" + m + "/gates", publisher(), Map.of("maxArtifactBytes", 90_000_000 - i));
            assertThat(r.status()).as(r.text()).isEqualTo(200);
        }
        assertThat(send("PUT", "/api/v1/models/" + m + "/gates", ADMIN, "{}").status()).isEqualTo(200);

        // limit + before: three pages of two, newest first, no event twice (the model's gate changes, not its creation)
        List<Long> ids = new ArrayList<>();
        String before = "";
        for (int page = 0; page < 3; page++) {
            JsonNode p = get("/api/v1/audit?model=" + m + "&action=gates.put&limit=2" + before, ADMIN).json();
            assertThat(p.path("events")).hasSize(2);
            p.path("events").forEach(e -> ids.add(e.path("id").asLong()));
            before = p.path("nextBefore").isNull() ? null : "&before=" + p.path("nextBefore").asLong();
            if (page < 2) assertThat(before).isNotNull();
        }
        assertThat(before).as("the last page says so").isNull();
        assertThat(ids).hasSize(6).doesNotHaveDuplicates().isSortedAccordingTo((a, b) -> Long.compare(b, a));

        JsonNode newest = get("/api/v1/audit?model=" + m + "&action=gates.put&limit=1", ADMIN).json().path("events").get(0);
        assertThat(newest.path("actor").asString()).isEqualTo("bootstrap-admin");
        assertThat(newest.path("detail").path("gates").isObject()).isTrue();

        assertThat(get("/api/v1/audit?model=" + m + "&action=gates.put", ADMIN).json().path("events")).hasSize(6);
        assertThat(get("/api/v1/audit?model=" + m + "&action=alias.move", ADMIN).json().path("events")).isEmpty();
        // since is inclusive; one in the future matches nothing
        String since = java.net.URLEncoder.encode(start.toString(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(get("/api/v1/audit?model=" + m + "&since=" + since, ADMIN).json().path("events")).as("with model.create")
                .hasSize(7);
        assertThat(get("/api/v1/audit?model=" + m + "&since=2999-01-01T00:00:00Z", ADMIN).json().path("events")).isEmpty();
        JsonNode any = get("/api/v1/audit?limit=3", ADMIN).json();
        assertThat(any.path("events")).hasSize(3);
        assertThat(any.path("nextBefore").asLong()).isEqualTo(any.path("events").get(2).path("id").asLong());

        for (String role : List.of("reader", "publisher", "qa", "worker", "agent")) {
            Response r = get("/api/v1/audit", token(role));
            assertThat(r.status()).as(role).isEqualTo(403);
            assertThat(r.problem()).isEqualTo("forbidden-role");
        }
        for (String bad : List.of("action=gates.set", "limit=0", "limit=501", "limit=ten", "before=x", "since=yesterday",
                "since=2026-11-28T03:00:00")) {
            Response r = get("/api/v1/audit?" + bad, ADMIN);
            assertThat(r.status()).as(bad + " -> " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("invalid-query");
            assertThat(r.json().path("detail").asString()).contains(bad.substring(0, bad.indexOf('=')));
        }
    }

    @Test
    void theTableIsAppendOnly() {
        createModel("trail-append");
        assertThat(send("PUT", "/api/v1/models/trail-append/gates", publisher(), Map.of("maxArtifactBytes", 1000)).status())
                .isEqualTo(200);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> jdbc.sql("DELETE FROM audit_event WHERE model = 'trail-append'")
                .update()).hasMessageContaining("append-only");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> jdbc.sql("UPDATE audit_event SET actor_name = 'x'")
                .update()).hasMessageContaining("append-only");
    }
}
