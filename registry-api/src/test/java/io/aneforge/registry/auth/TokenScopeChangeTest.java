package io.aneforge.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * An admin changes a token's models after minting ({@code PATCH /api/v1/tokens/{id}}): checked as at minting, only
 * a publisher's, audited, and in force on the token's next request (the token cache is dropped at the commit).
 */
class TokenScopeChangeTest extends RegistryTestBase {

    private Response mint(String name, String role, List<String> models) {
        Map<String, Object> body = new HashMap<>(Map.of("name", name, "role", role));
        if (models != null) body.put("models", models);
        Response r = send("POST", "/api/v1/tokens", ADMIN, body);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r;
    }

    private Response change(long id, Object body, String requestId) {
        return send("PATCH", "/api/v1/tokens/" + id, ADMIN, body, "X-Request-Id", requestId);
    }

    private static Map<String, Object> models(List<String> models) {
        Map<String, Object> body = new HashMap<>();
        body.put("models", models);
        return body;
    }

    private Response newVersion(String model, String token) {
        return send("POST", "/api/v1/models/" + model + "/versions", token, Map.of("source", Map.of("type", "upload")));
    }

    @Test
    void anAdminReplacesAPublishersModelsAndTheNextRequestObeysThem() {
        createModel("chg-a");
        createModel("chg-b");
        createModel("chg-team-x");
        Response minted = mint("chg-publisher", "publisher", List.of("chg-a"));
        long id = minted.json().path("id").asLong();
        String scoped = minted.json().path("token").asString();
        // used once, so its look-up is in the token cache (5 s): the change must not wait for it to expire
        assertThat(newVersion("chg-a", scoped).status()).isEqualTo(201);
        assertThat(newVersion("chg-b", scoped).status()).isEqualTo(403);

        Response changed = change(id, models(List.of("chg-b", "chg-team-*", "chg-b")), "chg-scope-1");
        assertThat(changed.status()).as(changed.text()).isEqualTo(200);
        assertThat(changed.json().path("id").asLong()).isEqualTo(id);
        assertThat(changed.json().path("name").asString()).isEqualTo("chg-publisher");
        assertThat(changed.json().path("role").asString()).isEqualTo("publisher");
        assertThat(changed.json().path("models").toString()).isEqualTo("[\"chg-b\",\"chg-team-*\"]");
        assertThat(changed.json().path("token").isMissingNode()).isTrue();

        Response refused = newVersion("chg-a", scoped);
        assertThat(refused.status()).as(refused.text()).isEqualTo(403);
        assertThat(refused.problem()).isEqualTo("forbidden-model");
        assertThat(refused.json().path("models").toString()).isEqualTo("[\"chg-b\",\"chg-team-*\"]");
        assertThat(newVersion("chg-b", scoped).status()).isEqualTo(201);
        assertThat(newVersion("chg-team-x", scoped).status()).isEqualTo(201);
        assertThat(get("/api/v1/tokens/self", scoped).json().path("models").toString())
                .isEqualTo("[\"chg-b\",\"chg-team-*\"]");

        JsonNode event = auditEvent("chg-scope-1", "token.scope", "bootstrap-admin");
        JsonNode detail = event.path("detail");
        assertThat(detail.path("tokenId").asLong()).isEqualTo(id);
        assertThat(detail.path("name").asString()).isEqualTo("chg-publisher");
        assertThat(detail.path("role").asString()).isEqualTo("publisher");
        assertThat(detail.path("before").toString()).isEqualTo("[\"chg-a\"]");
        assertThat(detail.path("models").toString()).isEqualTo("[\"chg-b\",\"chg-team-*\"]");
        assertThat(get("/api/v1/audit?action=token.scope", ADMIN).status()).isEqualTo(200);

        // the same models again change nothing and are not audited again
        Response repeat = change(id, models(List.of("chg-b", "chg-team-*")), "chg-scope-2");
        assertThat(repeat.status()).as(repeat.text()).isEqualTo(200);
        assertThat(auditEvents("chg-scope-2")).isEmpty();

        // null lifts the limit
        Response lifted = change(id, models(null), "chg-scope-3");
        assertThat(lifted.status()).as(lifted.text()).isEqualTo(200);
        assertThat(lifted.json().path("models").isNull()).isTrue();
        assertThat(newVersion("chg-a", scoped).status()).isEqualTo(201);
        JsonNode liftedEvent = auditEvent("chg-scope-3", "token.scope", "bootstrap-admin").path("detail");
        assertThat(liftedEvent.path("before").toString()).isEqualTo("[\"chg-b\",\"chg-team-*\"]");
        assertThat(liftedEvent.path("models").isNull()).isTrue();

        // and a token minted for every model can be limited later
        Response everyModel = mint("chg-unscoped", "publisher", null);
        String unscoped = everyModel.json().path("token").asString();
        assertThat(newVersion("chg-a", unscoped).status()).isEqualTo(201);
        assertThat(change(everyModel.json().path("id").asLong(), models(List.of("chg-b")), "chg-scope-4").status())
                .isEqualTo(200);
        assertThat(newVersion("chg-a", unscoped).status()).isEqualTo(403);
    }

    @Test
    void aChangeIsCheckedAsAMintAndCannotMakeATokenSomethingElse() {
        long id = mint("chg-checked", "publisher", List.of("chg-c")).json().path("id").asLong();
        for (Object bad : List.of(List.of(), List.of("*"), List.of("Team A"), List.of("a*b"))) {
            Response r = change(id, models((List<String>) bad), "chg-bad");
            assertThat(r.status()).as(bad + " -> " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("invalid-model-scope");
        }
        for (String role : List.of("reader", "qa", "worker", "agent", "admin")) {
            Response other = mint("chg-" + role, role, null);
            long otherId = other.json().path("id").asLong();
            Response r = change(otherId, models(List.of("chg-*")), "chg-role-" + role);
            assertThat(r.status()).as(role + " -> " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("model-scope-not-supported");
            assertThat(r.json().path("detail").asString()).contains("a " + role + " token cannot be limited");
            // every model is what such a token already has: nothing changes, nothing is audited
            Response none = change(otherId, models(null), "chg-none-" + role);
            assertThat(none.status()).as(none.text()).isEqualTo(200);
            assertThat(none.json().path("role").asString()).isEqualTo(role);
            assertThat(auditEvents("chg-none-" + role)).isEmpty();
        }

        // only models can change, and it must be there
        Response role = change(id, Map.of("models", List.of("chg-c"), "role", "admin"), "chg-body");
        assertThat(role.status()).as(role.text()).isEqualTo(400);
        assertThat(role.problem()).isEqualTo("invalid-request");
        assertThat(role.json().path("detail").asString()).startsWith("field '/role' cannot be changed");
        Response missing = change(id, Map.of(), "chg-body");
        assertThat(missing.json().path("detail").asString()).startsWith("field '/models' is required");
        Response notList = change(id, Map.of("models", "chg-c"), "chg-body");
        assertThat(notList.json().path("detail").asString()).isEqualTo("field '/models' must be an array of strings,"
                + " or null for every model");
        Response number = change(id, Map.of("models", List.of("chg-c", 7)), "chg-body");
        assertThat(number.status()).isEqualTo(400);
        assertThat(number.json().path("detail").asString()).isEqualTo("field '/models/1' must be a string");
        Response array = change(id, List.of("chg-c"), "chg-body");
        assertThat(array.json().path("detail").asString()).startsWith("the body must be an object");
        Response duplicate = change(id, "{\"models\":[\"chg-c\"],\"models\":null}", "chg-body");
        assertThat(duplicate.status()).isEqualTo(400);
        assertThat(duplicate.problem()).isEqualTo("invalid-request");
        assertThat(auditEvents("chg-body")).isEmpty();

        Response unknown = change(99_999_999, models(List.of("chg-c")), "chg-unknown");
        assertThat(unknown.status()).as(unknown.text()).isEqualTo(404);
        assertThat(unknown.problem()).isEqualTo("token-not-found");

        assertThat(send("DELETE", "/api/v1/tokens/" + id, ADMIN, null).status()).isEqualTo(204);
        Response revoked = change(id, models(List.of("chg-d")), "chg-revoked");
        assertThat(revoked.status()).as(revoked.text()).isEqualTo(409);
        assertThat(revoked.problem()).isEqualTo("token-revoked");
        assertThat(revoked.json().path("detail").asString()).contains("mint a new one");
        assertThat(auditEvents("chg-revoked")).isEmpty();

        // none of the refusals changed the token
        JsonNode listed = null;
        for (JsonNode t : get("/api/v1/tokens", ADMIN).json()) {
            if (t.path("id").asLong() == id) listed = t;
        }
        assertThat(listed.path("models").toString()).isEqualTo("[\"chg-c\"]");
        assertThat(listed.path("role").asString()).isEqualTo("publisher");

        // admin only
        Response asPublisher = send("PATCH", "/api/v1/tokens/" + id, publisher(), models(List.of("chg-c")));
        assertThat(asPublisher.status()).isEqualTo(403);
        assertThat(asPublisher.problem()).isEqualTo("forbidden-role");
    }
}
