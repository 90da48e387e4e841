package io.aneforge.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * With aneforge.tokens.publisher-models-required on, every new publisher token names its models: minting one without
 * them, or lifting a publisher's limit, is refused naming the setting; other roles are minted as before.
 */
@TestPropertySource(properties = "aneforge.tokens.publisher-models-required=true")
class PublisherModelsRequiredTest extends RegistryTestBase {

    @org.springframework.beans.factory.annotation.Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    private Response mint(String name, String role, List<String> models) {
        Map<String, Object> body = new HashMap<>(Map.of("name", name, "role", role));
        if (models != null) body.put("models", models);
        return send("POST", "/api/v1/tokens", ADMIN, body);
    }

    @Test
    void aPublisherTokenWithoutModelsIsRefused() {
        Response refused = mint("req-unscoped", "publisher", null);
        assertThat(refused.status()).as(refused.text()).isEqualTo(400);
        assertThat(refused.problem()).isEqualTo("model-scope-required");
        assertThat(refused.json().path("detail").asString())
                .contains("aneforge.tokens.publisher-models-required (ANEFORGE_TOKENS_PUBLISHER_MODELS_REQUIRED) is on")
                .contains("mint it with \"models\"");
        assertThat(refused.json().path("setting").asString()).isEqualTo("aneforge.tokens.publisher-models-required");
        assertThat(get("/api/v1/tokens", ADMIN).text()).doesNotContain("req-unscoped");

        // other roles take no models and are minted as before
        for (String role : List.of("reader", "qa", "worker", "agent", "admin")) {
            Response r = mint("req-" + role, role, null);
            assertThat(r.status()).as(role + " -> " + r.text()).isEqualTo(201);
        }

        Response scoped = mint("req-scoped", "publisher", List.of("req-*"));
        assertThat(scoped.status()).as(scoped.text()).isEqualTo(201);
        String token = scoped.json().path("token").asString();
        long id = scoped.json().path("id").asLong();
        assertThat(send("POST", "/api/v1/models", token, Map.of("name", "req-a", "task", "t")).status()).isEqualTo(201);
        assertThat(send("POST", "/api/v1/models", token, Map.of("name", "other-a", "task", "t")).status()).isEqualTo(403);

        // its models can change, but not to every model
        Map<String, Object> every = new HashMap<>();
        every.put("models", null);
        Response lifted = send("PATCH", "/api/v1/tokens/" + id, ADMIN, every);
        assertThat(lifted.status()).as(lifted.text()).isEqualTo(400);
        assertThat(lifted.problem()).isEqualTo("model-scope-required");
        assertThat(lifted.json().path("detail").asString()).contains("limit it with \"models\"");
        Response narrowed = send("PATCH", "/api/v1/tokens/" + id, ADMIN, Map.of("models", List.of("req-a")));
        assertThat(narrowed.status()).as(narrowed.text()).isEqualTo(200);
        assertThat(narrowed.json().path("models").toString()).isEqualTo("[\"req-a\"]");
    }

    /**
     * review-r21: a token minted before the setting was switched on may write to every model; "lifting" its limit
     * again changes nothing, so it is answered as the no-op it is (200), not refused as if it widened the scope.
     */
    @Test
    void liftingTheLimitOfATokenThatHasNoneIsANoOpNotARefusal() {
        long id = jdbc.sql("INSERT INTO api_token (name, role, models, token_sha256, created_by) VALUES"
                        + " ('legacy-every-model', 'publisher', NULL, ?, 'test') RETURNING id")
                .param(Long.toHexString(System.nanoTime()) + "legacy").query(Long.class).single();
        Map<String, Object> every = new HashMap<>();
        every.put("models", null);
        Response r = send("PATCH", "/api/v1/tokens/" + id, ADMIN, every);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("models").isArray()).as("every model: no list").isFalse();
    }
}
