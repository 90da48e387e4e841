package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryTestBase;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * A publisher cannot clear or relax gates (that would be an override without the admin: clear, promote,
 * restore); every gate change is kept in an append-only history.
 */
class GatesHistoryTest extends RegistryTestBase {

    @Autowired
    JdbcClient jdbc;

    private Response putGates(String model, String json, String token) {
        return send("PUT", "/api/v1/models/" + model + "/gates", token, json);
    }

    @Test
    void publishersMayOnlyTightenAndEveryChangeIsRecorded() {
        String m = "gates-history";
        createModel(m);
        assertThat(putGates(m, "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0}}", publisher()).status()).isEqualTo(200);
        assertThat(putGates(m, "{\"minCosine\":0.9999,\"maxP50Ms\":{\"A17_PRO\":3.0}}", publisher()).status()).isEqualTo(200);

        Response cleared = putGates(m, "{}", publisher());
        assertThat(cleared.status()).as(cleared.text()).isEqualTo(403);
        assertThat(cleared.problem()).isEqualTo("gates-loosening-needs-admin");
        assertThat(cleared.json().path("detail").asString()).contains("minCosine 0.9999 -> none", "maxP50Ms.A17_PRO 3.0 -> none");
        Response slower = putGates(m, "{\"minCosine\":0.9999,\"maxP50Ms\":{\"A17_PRO\":5.0}}", publisher());
        assertThat(slower.status()).isEqualTo(403);
        assertThat(slower.json().path("loosened").toString()).contains("maxP50Ms.A17_PRO 3.0 -> 5.0");
        // The refused changes left the gates as they were.
        assertThat(get("/api/v1/models/" + m + "/gates", reader()).json().path("gates").path("minCosine").asDouble())
                .isEqualTo(0.9999);

        Response byAdmin = putGates(m, "{}", ADMIN);
        assertThat(byAdmin.status()).as(byAdmin.text()).isEqualTo(200);

        JsonNode h = get("/api/v1/models/" + m + "/gates/history", reader()).json();
        assertThat(h).as(h.toString()).hasSize(3);
        assertThat(h.get(0).path("before").isNull()).isTrue();
        assertThat(h.get(0).path("after").path("minCosine").asDouble()).isEqualTo(0.999);
        assertThat(h.get(0).path("changedBy").asString()).isEqualTo("test-publisher");
        assertThat(h.get(0).path("changedAt").isNull()).isFalse();
        assertThat(h.get(1).path("before").path("minCosine").asDouble()).isEqualTo(0.999);
        assertThat(h.get(1).path("after").path("minCosine").asDouble()).isEqualTo(0.9999);
        assertThat(h.get(1).path("loosened").toString()).isEqualTo("[]"); // isEmpty() would pass on a missing field
        assertThat(h.get(2).path("before").path("minCosine").asDouble()).isEqualTo(0.9999);
        assertThat(h.get(2).path("after").path("minCosine").isNull()).isTrue();
        assertThat(h.get(2).path("loosened").toString()).contains("minCosine 0.9999 -> none");
        assertThat(h.get(2).path("changedBy").asString()).isNotEqualTo("test-publisher");

        assertThatThrownBy(() -> jdbc.sql("DELETE FROM model_gates_history").update())
                .hasMessageContaining("model_gates_history is append-only");
    }
}
