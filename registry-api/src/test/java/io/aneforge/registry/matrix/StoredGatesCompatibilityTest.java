package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryTestBase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Stored gates stay readable across one release either way (docs/deploy.md, "expand, then contract"): during a rolling
 * update both releases serve from the same rows, and after a rollback the previous one reads what this one wrote.
 * Gates that set no per-precision limit are stored without {@code minCosineByPrecision}, so the previous release, which
 * reads stored gates strictly, reads them; and this release reads a stored field it does not know instead of failing
 * every GET, PUT, matrix and promotion of the model with a 500.
 */
class StoredGatesCompatibilityTest extends RegistryTestBase {

    /** The gates of the release before {@code minCosineByPrecision}, read as it reads them: unknown fields are errors. */
    record PreviousReleaseGates(Double minCosine, Map<String, Double> maxP50Ms, Long maxArtifactBytes,
                                Double maxP50MsDefault) {}

    private static final JsonMapper PREVIOUS_RELEASE = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    @Autowired
    JdbcClient jdbc;

    private Response putGates(String model, String json, String token) {
        return send("PUT", "/api/v1/models/" + model + "/gates", token, json);
    }

    private long modelId(String model) {
        return jdbc.sql("SELECT id FROM model WHERE name = ?").param(model).query(Long.class).single();
    }

    @Test
    void gatesWithoutPerPrecisionLimitsAreStoredAsThePreviousReleaseReadsThem() {
        String m = "gates-stored-compatible";
        createModel(m);
        assertThat(putGates(m, "{\"minCosine\":0.99,\"maxP50Ms\":{\"A17_PRO\":3.0}}", publisher()).status()).isEqualTo(200);
        assertThat(putGates(m, "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0}}", publisher()).status()).isEqualTo(200);
        long id = modelId(m);

        String stored = jdbc.sql("SELECT CAST(gates AS text) FROM model_gates WHERE model_id = ?").param(id)
                .query(String.class).single();
        List<String> history = jdbc.sql("SELECT CAST(gates_before AS text), CAST(gates_after AS text)"
                        + " FROM model_gates_history WHERE model_id = ? ORDER BY id").param(id)
                .query((rs, i) -> List.of(rs.getString(1) == null ? "null" : rs.getString(1), rs.getString(2)))
                .list().stream().flatMap(List::stream).filter(s -> !s.equals("null")).toList();
        assertThat(history).hasSize(3); // first set: after; tightening: before and after
        for (String json : concat(stored, history)) {
            assertThat(json).doesNotContain("minCosineByPrecision");
            PreviousReleaseGates read = PREVIOUS_RELEASE.readValue(json, PreviousReleaseGates.class);
            assertThat(read.maxP50Ms()).containsKey("A17_PRO");
        }
        assertThat(PREVIOUS_RELEASE.readValue(stored, PreviousReleaseGates.class).minCosine()).isEqualTo(0.999);

        // GET still shows every field, the empty map included.
        JsonNode gates = get("/api/v1/models/" + m + "/gates", reader()).json().path("gates");
        assertThat(gates.path("minCosineByPrecision").isObject()).as(gates.toString()).isTrue();
        assertThat(gates.path("minCosineByPrecision").toString()).isEqualTo("{}");

        // Gates that do set one are stored with it: those the previous release cannot read (docs/deploy.md says so).
        assertThat(putGates(m, "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0},\"minCosineByPrecision\":{\"int4\":0.9999}}",
                publisher()).status()).isEqualTo(200);
        String withLimit = jdbc.sql("SELECT CAST(gates AS text) FROM model_gates WHERE model_id = ?").param(id)
                .query(String.class).single();
        assertThat(withLimit).contains("\"minCosineByPrecision\": {\"int4\": 0.9999}");
        assertThatThrownBy(() -> PREVIOUS_RELEASE.readValue(withLimit, PreviousReleaseGates.class))
                .isInstanceOf(JacksonException.class).hasMessageContaining("minCosineByPrecision");
    }

    @Test
    void storedGatesWithAFieldThisReleaseDoesNotKnowStillRead() {
        String m = "gates-stored-unknown-field";
        createModel(m);
        assertThat(putGates(m, "{\"minCosine\":0.99}", publisher()).status()).isEqualTo(200);
        long id = modelId(m);
        // What a later release may store: a limit this one does not know, in the gates and in the history.
        jdbc.sql("UPDATE model_gates SET gates = gates || CAST(? AS jsonb) WHERE model_id = ?")
                .params("{\"maxP90Ms\":{\"A17_PRO\":4.0}}", id).update();
        jdbc.sql("INSERT INTO model_gates_history (model_id, gates_before, gates_after, loosened, changed_by)"
                        + " VALUES (?, CAST(? AS jsonb), CAST(? AS jsonb), ?, ?)")
                .params(id, "{\"minCosine\":0.99}", "{\"minCosine\":0.99,\"maxP90Ms\":{\"A17_PRO\":4.0}}", new String[0],
                        "a-later-release").update();

        Response gates = get("/api/v1/models/" + m + "/gates", reader());
        assertThat(gates.status()).as(gates.text()).isEqualTo(200);
        assertThat(gates.json().path("gates").path("minCosine").asDouble()).isEqualTo(0.99);
        Response history = get("/api/v1/models/" + m + "/gates/history", reader());
        assertThat(history.status()).as(history.text()).isEqualTo(200);
        assertThat(history.json().get(1).path("after").path("minCosine").asDouble()).isEqualTo(0.99);
        // PUT reads the stored gates to judge the change: a tightening still goes through.
        Response tightened = putGates(m, "{\"minCosine\":0.999}", publisher());
        assertThat(tightened.status()).as(tightened.text()).isEqualTo(200);
        // A PUT body is still read strictly: a misspelt field is refused, not silently dropped.
        Response misspelt = putGates(m, "{\"minCosine\":0.999,\"maxP90Ms\":{\"A17_PRO\":4.0}}", publisher());
        assertThat(misspelt.status()).as(misspelt.text()).isEqualTo(400);
        assertThat(misspelt.problem()).isEqualTo("invalid-gates");
    }

    private static List<String> concat(String first, List<String> rest) {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(first), rest.stream()).toList();
    }
}
