package io.aneforge.registry.alias;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * Every alias move records the gates it was checked against (V36), so "which limits did version N pass when prod
 * moved to it" is answered by {@code GET .../aliases/{alias}/history} alone: guarded, overridden and ungated moves,
 * first assignments included; "no gates" and "not recorded" read differently; the previous release still reads and
 * writes the table.
 */
class AliasGatesRecordTest extends RegistryTestBase {

    /** Checks only the size, which is known without any job: a version with golden data passes it at once. */
    private static final String SIZE_AND_INT4 = "{\"maxArtifactBytes\":50000000,\"minCosineByPrecision\":{\"int4\":0.98}}";

    @Autowired
    JdbcClient jdbc;

    @Autowired
    DataSource dataSource;

    private Response putGates(String model, String json, String token) {
        return send("PUT", "/api/v1/models/" + model + "/gates", token, json);
    }

    private int passingVersion(String model) {
        int v = createVersion(model);
        addVariant(model, v, "A17_PRO", "18.0", "ane", "fp16");
        setGolden(model, v);
        publish(model, v);
        return v;
    }

    private JsonNode history(String model, String alias) {
        Response r = get("/api/v1/models/" + model + "/aliases/" + alias + "/history", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    private long modelId(String model) {
        return jdbc.sql("SELECT id FROM model WHERE name = ?").param(model).query(Long.class).single();
    }

    @Test
    void aGuardedMoveRecordsTheGatesItPassedAndALaterChangeLeavesThemAlone() {
        String m = "alias-gates-guarded";
        createModel(m);
        assertThat(putGates(m, SIZE_AND_INT4, publisher()).status()).isEqualTo(200);
        int v1 = passingVersion(m);
        Response first = moveAlias(m, "prod", v1, "first release");
        assertThat(first.status()).as(first.text()).isEqualTo(200);

        // The stored copy is the exact document model_gates held (the previous release's form: no empty fields added).
        String stored = jdbc.sql("SELECT CAST(gates AS text) FROM model_gates WHERE model_id = ?").param(modelId(m))
                .query(String.class).single();
        String recorded = jdbc.sql("SELECT CAST(gates_in_force AS text) FROM alias_history WHERE model_id = ? ORDER BY id")
                .param(modelId(m)).query(String.class).single();
        assertThat(recorded).isEqualTo(stored).contains("\"maxArtifactBytes\": 50000000");

        // Tightening the gates afterwards does not rewrite what the first move was checked against.
        assertThat(putGates(m, "{\"maxArtifactBytes\":40000000,\"minCosineByPrecision\":{\"int4\":0.985}}", publisher())
                .status()).isEqualTo(200);
        int v2 = passingVersion(m);
        assertThat(moveAlias(m, "prod", v2, "second release").status()).isEqualTo(200);

        JsonNode history = history(m, "prod");
        assertThat(history).as(history.toString()).hasSize(2);
        JsonNode firstMove = history.get(0);
        assertThat(firstMove.path("fromVersion").isNull()).isTrue(); // a first assignment records them too
        assertThat(firstMove.path("overridden").asBoolean()).isFalse();
        JsonNode was = firstMove.path("gatesInForce");
        assertThat(was.path("set").asBoolean()).as(was.toString()).isTrue();
        assertThat(was.path("gates").path("maxArtifactBytes").asLong()).isEqualTo(50_000_000L);
        assertThat(was.path("gates").path("minCosineByPrecision").path("int4").asDouble()).isEqualTo(0.98);
        assertThat(was.path("gates").path("minCosine").isNull()).isTrue();
        JsonNode now = history.get(1).path("gatesInForce");
        assertThat(now.path("gates").path("maxArtifactBytes").asLong()).as(now.toString()).isEqualTo(40_000_000L);
        assertThat(now.path("gates").path("minCosineByPrecision").path("int4").asDouble()).isEqualTo(0.985);
    }

    @Test
    void anOverriddenMoveRecordsTheGatesItWasMovedPast() {
        String m = "alias-gates-override";
        createModel(m);
        int v = createVersion(m);
        addVariant(m, v, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData(m, v); // never PASS: its accuracy is not checked
        assertThat(putGates(m, "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0}}", publisher()).status()).isEqualTo(200);
        assertThat(moveAlias(m, "prod", v, "ship").status()).isEqualTo(409);
        Response forced = send("PUT", "/api/v1/models/" + m + "/aliases/prod", ADMIN,
                Map.of("version", v, "reason", "accepted unchecked", "override", true));
        assertThat(forced.status()).as(forced.text()).isEqualTo(200);

        JsonNode entry = history(m, "prod").get(0);
        assertThat(entry.path("overridden").asBoolean()).isTrue();
        assertThat(entry.path("gateStatus").asString()).isEqualTo("INCOMPLETE");
        JsonNode gates = entry.path("gatesInForce").path("gates");
        assertThat(entry.path("gatesInForce").path("set").asBoolean()).as(entry.toString()).isTrue();
        assertThat(gates.path("minCosine").asDouble()).isEqualTo(0.999);
        assertThat(gates.path("maxP50Ms").path("A17_PRO").asDouble()).isEqualTo(3.0);
    }

    @Test
    void aMoveWithoutGatesRecordsNoneWhichIsNotTheSameAsNotRecorded() {
        String m = "alias-gates-none";
        createModel(m);
        int v1 = passingVersion(m);
        assertThat(moveAlias(m, "prod", v1, "no gates yet").status()).isEqualTo(200);
        // What the release before V36 inserts during a rolling update: the columns it knows, nothing else.
        int v2 = passingVersion(m);
        jdbc.sql("INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_by, reason, overridden,"
                        + " gate_status, gate_reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .params(modelId(m), "prod", v1, v2, "previous-release", "moved by an old pod", false, null, null).update();
        // Gates that set no limit are a row all the same: recorded as set, with every limit empty.
        assertThat(putGates(m, "{}", publisher()).status()).isEqualTo(200);
        int v3 = passingVersion(m);
        assertThat(moveAlias(m, "prod", v3, "gates cleared").status()).isEqualTo(200);
        assertThat(send("DELETE", "/api/v1/models/" + m + "/aliases/prod", publisher(), Map.of("reason", "withdraw"))
                .status()).isEqualTo(204);

        JsonNode history = history(m, "prod");
        assertThat(history).as(history.toString()).hasSize(4);
        JsonNode none = history.get(0).path("gatesInForce");
        assertThat(none.isObject()).as(history.get(0).toString()).isTrue();
        assertThat(none.path("set").asBoolean()).isFalse();
        assertThat(none.path("gates").isNull()).isTrue();
        assertThat(history.get(1).path("changedBy").asString()).isEqualTo("previous-release");
        assertThat(history.get(1).path("gatesInForce").isNull()).as(history.get(1).toString()).isTrue();
        JsonNode empty = history.get(2).path("gatesInForce");
        assertThat(empty.path("set").asBoolean()).as(empty.toString()).isTrue();
        assertThat(empty.path("gates").path("minCosine").isNull()).isTrue();
        assertThat(empty.path("gates").path("maxP50Ms").isEmpty()).isTrue();
        // A deletion ships nothing and is checked against nothing.
        assertThat(history.get(3).path("toVersion").isNull()).isTrue();
        assertThat(history.get(3).path("gatesInForce").isNull()).as(history.get(3).toString()).isTrue();

        // The release before V36 reads the table with its own query, rows of this release included.
        List<String> previousView = jdbc.sql("SELECT alias, from_version, to_version, changed_by, reason, changed_at,"
                        + " overridden, gate_status, gate_reasons FROM alias_history WHERE model_id = ? AND alias = ? ORDER BY id")
                .params(modelId(m), "prod")
                .query((rs, i) -> rs.getString(4) + " -> " + rs.getObject(3) + " (" + rs.getString(5) + ")").list();
        assertThat(previousView).containsExactly(
                "test-publisher -> " + v1 + " (no gates yet)",
                "previous-release -> " + v2 + " (moved by an old pod)",
                "test-publisher -> " + v3 + " (gates cleared)",
                "test-publisher -> null (withdraw)");
    }

    /**
     * A gate change under way when a move starts finishes first; the move then checks and records the new gates
     * (without the share lock it would read the old ones, commit past the change, and record gates no longer in force).
     */
    @Test
    void aMoveWaitsForAGateChangeUnderWayAndRecordsTheGatesThatChangeLeft() throws Exception {
        String m = "alias-gates-race";
        createModel(m);
        assertThat(putGates(m, SIZE_AND_INT4, publisher()).status()).isEqualTo(200);
        int v = passingVersion(m);
        long id = modelId(m);
        CompletableFuture<HttpResponse<String>> move;
        try (Connection change = dataSource.getConnection()) {
            change.setAutoCommit(false);
            // What ModelGates.put does inside its transaction: lock the model row, then write the gates.
            try (PreparedStatement lock = change.prepareStatement("SELECT id FROM model WHERE id = ? FOR NO KEY UPDATE");
                 PreparedStatement write = change.prepareStatement(
                         "UPDATE model_gates SET gates = CAST(? AS jsonb) WHERE model_id = ?")) {
                lock.setLong(1, id);
                lock.executeQuery().close();
                write.setString(1, "{\"maxArtifactBytes\": 30000000}");
                write.setLong(2, id);
                assertThat(write.executeUpdate()).isEqualTo(1);
            }
            move = http.sendAsync(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/api/v1/models/" + m
                                    + "/aliases/prod"))
                            .header("Authorization", "Bearer " + publisher()).header("Content-Type", "application/json")
                            .PUT(HttpRequest.BodyPublishers.ofString("{\"version\": " + v + ", \"reason\": \"during a change\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            Thread.sleep(1500);
            assertThat(move.isDone()).as("the move waits for the gate change to commit").isFalse();
            change.commit();
        }
        HttpResponse<String> moved = move.get(30, TimeUnit.SECONDS);
        assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
        JsonNode gates = history(m, "prod").get(0).path("gatesInForce").path("gates");
        assertThat(gates.path("maxArtifactBytes").asLong()).as(gates.toString()).isEqualTo(30_000_000L);
        assertThat(gates.path("minCosineByPrecision").isEmpty()).isTrue();
    }
}
