package io.aneforge.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Publisher tokens limited to some models (review-d #5): every write on another model is a 403 naming the scope. */
class ModelScopeTest extends RegistryTestBase {

    /** A write on {@code model}: method, path and body. */
    record Write(String what, Function<String, String> path, String method, Object body) {}

    private static final List<Write> WRITES = List.of(
            new Write("new version", m -> "/api/v1/models/" + m + "/versions", "POST", Map.of("source", Map.of("type", "upload"))),
            new Write("variant", m -> "/api/v1/models/" + m + "/versions/1/variants", "POST", Map.of("chip", "A16")),
            new Write("golden data", m -> "/api/v1/models/" + m + "/versions/1/golden", "PUT", Map.of("inputs", "x", "outputs", "y")),
            new Write("publish", m -> "/api/v1/models/" + m + "/versions/1/publish", "POST", null),
            new Write("variant yank", m -> "/api/v1/models/" + m + "/versions/1/variants/999999/yank", "POST", Map.of("reason", "r")),
            new Write("accuracy re-run", m -> "/api/v1/models/" + m + "/versions/1/accuracy-runs", "POST", null),
            new Write("gates", m -> "/api/v1/models/" + m + "/gates", "PUT", Map.of("minCosine", 0.999)),
            new Write("alias move", m -> "/api/v1/models/" + m + "/aliases/production", "PUT", Map.of("version", 1, "reason", "r")),
            new Write("alias delete", m -> "/api/v1/models/" + m + "/aliases/production", "DELETE", Map.of("reason", "r")),
            new Write("version yank", m -> "/api/v1/models/" + m + "/versions/1/yank", "POST", Map.of("reason", "r")));

    private Response mint(String name, String role, Object models) {
        return send("POST", "/api/v1/tokens", ADMIN, models == null ? Map.of("name", name, "role", role)
                : Map.of("name", name, "role", role, "models", models));
    }

    private static void assertOutOfScope(Response r, String what) {
        assertOutOfScope(r, what, "scope-other");
    }

    private static void assertOutOfScope(Response r, String what, String model) {
        assertThat(r.status()).as(what + " -> " + r.text()).isEqualTo(403);
        assertThat(r.problem()).isEqualTo("forbidden-model");
        assertThat(r.json().path("detail").asString()).contains("scope-team-*, scope-solo").contains("'" + model + "'");
        assertThat(r.json().path("models").toString()).isEqualTo("[\"scope-team-*\",\"scope-solo\"]");
    }

    @Test
    void aScopedPublisherWritesOnlyToItsModels() {
        Response minted = mint("team-publisher", "publisher", List.of("scope-team-*", "scope-solo"));
        assertThat(minted.status()).as(minted.text()).isEqualTo(201);
        assertThat(minted.json().path("models").toString()).isEqualTo("[\"scope-team-*\",\"scope-solo\"]");
        String scoped = minted.json().path("token").asString();

        // creating a model: the body names it
        assertOutOfScope(send("POST", "/api/v1/models", scoped, Map.of("name", "scope-other", "task", "t")), "create");
        assertThat(send("POST", "/api/v1/models", scoped, Map.of("name", "scope-team-a", "task", "t")).status()).isEqualTo(201);
        assertThat(send("POST", "/api/v1/models", scoped, Map.of("name", "scope-solo", "task", "t")).status()).isEqualTo(201);
        // a prefix pattern is a prefix, an exact name only itself
        assertOutOfScope(send("POST", "/api/v1/models", scoped, Map.of("name", "scope-solo-2", "task", "t")), "exact",
                "scope-solo-2");
        createModel("scope-other");
        int otherVersion = createVersion("scope-other");

        for (Write w : WRITES) {
            Response other = send(w.method(), w.path().apply("scope-other"), scoped, w.body());
            assertOutOfScope(other, w.what());
            // in scope the same call reaches the handler: whatever it answers, it is not refused for the token
            Response own = send(w.method(), w.path().apply("scope-team-a"), scoped, w.body());
            assertThat(own.status()).as(w.what() + " in scope -> " + own.text()).isNotIn(401, 403).isLessThan(500);
        }
        // nothing was written to the other model: still the one version the unscoped publisher created
        assertThat(get("/api/v1/models/scope-other/versions", reader()).json().size()).isEqualTo(otherVersion);
        assertThat(get("/api/v1/models/scope-team-a/versions", reader()).json().size()).isEqualTo(1);

        // conversions: the path names the conversion, the scope goes by its model
        long otherConversion = conversion("scope-other");
        long ownConversion = conversion("scope-team-a");
        assertOutOfScope(send("POST", "/api/v1/conversions/" + otherConversion + "/cancel", scoped, null), "cancel");
        assertThat(send("POST", "/api/v1/conversions/" + ownConversion + "/cancel", scoped, null).status()).isEqualTo(200);
        assertThat(send("POST", "/api/v1/conversions/" + otherConversion + "/cancel", publisher(), null).status()).isEqualTo(200);

        // reads are not limited
        assertThat(get("/api/v1/models/scope-other/versions/" + otherVersion, scoped).status()).isEqualTo(200);
        assertThat(get("/api/v1/models/scope-other/gates", scoped).status()).isEqualTo(200);
        // blobs are content-addressed, no model's: uploading one is not limited (the variant naming it is)
        assertThat(upload(mlpackage("scope-blob"))).startsWith("sha256:");
        byte[] blob = mlpackage("scope-blob-2");
        assertThat(send("PUT", "/api/v1/blobs/sha256:" + sha256(blob), scoped, blob).status()).isIn(200, 201);
    }

    private long conversion(String model) {
        Response r = send("POST", "/api/v1/models/" + model + "/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/" + model, "revision", "main"), "chips", List.of("A17_PRO")));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return get("/api/v1/models/" + model + "/versions/" + r.json().path("version").asInt() + "/conversion", reader())
                .json().path("id").asLong();
    }

    @Test
    void theScopeIsShownToTheTokenAndInTheListing() {
        Response minted = mint("listed-scoped", "publisher", List.of("listed-*"));
        String scoped = minted.json().path("token").asString();
        JsonNode self = get("/api/v1/tokens/self", scoped).json();
        assertThat(self.path("name").asString()).isEqualTo("listed-scoped");
        assertThat(self.path("role").asString()).isEqualTo("publisher");
        assertThat(self.path("models").toString()).isEqualTo("[\"listed-*\"]");
        // unscoped tokens (every token minted before V21 too) show null: every model
        assertThat(get("/api/v1/tokens/self", reader()).json().path("models").isNull()).isTrue();
        assertThat(get("/api/v1/tokens/self", ADMIN).json().path("role").asString()).isEqualTo("admin");

        JsonNode listed = null;
        for (JsonNode t : get("/api/v1/tokens", ADMIN).json()) {
            if (t.path("id").asLong() == minted.json().path("id").asLong()) listed = t;
        }
        assertThat(listed).isNotNull();
        assertThat(listed.path("models").toString()).isEqualTo("[\"listed-*\"]");
        assertThat(listed.path("token").isMissingNode()).isTrue();
    }

    @Test
    void aBadScopeIsRefusedAndNamesTheFix() {
        for (Object bad : List.of(List.of(), List.of("*"), List.of("Team A"), List.of("team/*"), List.of("a*b"))) {
            Response r = mint("bad-scope", "publisher", bad);
            assertThat(r.status()).as(bad + " -> " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("invalid-model-scope");
        }
        for (String role : List.of("reader", "qa", "worker", "agent", "admin")) {
            Response r = mint("scoped-" + role, role, List.of("team-*"));
            assertThat(r.status()).as(role + " -> " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("model-scope-not-supported");
            assertThat(r.json().path("detail").asString()).contains("publisher");
        }
        assertThat(get("/api/v1/tokens", ADMIN).text()).doesNotContain("bad-scope").doesNotContain("scoped-reader");
    }
}
