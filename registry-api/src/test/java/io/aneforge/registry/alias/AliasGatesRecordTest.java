package io.aneforge.registry.alias;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Every alias move records the gates it was checked against (V36), so "which limits did version N pass when prod
 * moved to it" is answered by {@code GET .../aliases/{alias}/history} alone: guarded, overridden and ungated moves,
 * first assignments included; "no gates" and "not recorded" read differently; the previous release still reads and
 * writes the table; a record written by a later release reads as stored.
 */
class AliasGatesRecordTest extends AliasTestBase {

    /** Checks only the size, which is known without any job: a version with golden data passes it at once. */
    private static final String SIZE_AND_INT4 = "{\"maxArtifactBytes\":50000000,\"minCosineByPrecision\":{\"int4\":0.98}}";

    private Response putGates(String model, String json, String token) {
        return send("PUT", "/api/v1/models/" + model + "/gates", token, json);
    }

    @Test
    void aGuardedMoveRecordsTheGatesItPassedAndALaterChangeLeavesThemAlone() {
        String m = "alias-gates-guarded";
        createModel(m);
        assertThat(putGates(m, SIZE_AND_INT4, publisher()).status()).isEqualTo(200);
        int v1 = publishedVersion(m);
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
        int v2 = publishedVersion(m);
        assertThat(moveAlias(m, "prod", v2, "second release").status()).isEqualTo(200);

        JsonNode history = history(m, "prod");
        assertThat(history).as(history.toString()).hasSize(2);
        JsonNode firstMove = history.get(0);
        assertThat(firstMove.path("fromVersion").isNull()).isTrue(); // a first assignment records them too
        assertThat(firstMove.path("overridden").asBoolean()).isFalse();
        JsonNode was = firstMove.path("gatesInForce");
        assertThat(was.path("set").asBoolean()).as(was.toString()).isTrue();
        // The history shows the stored document itself, not a reading of it.
        assertThat(was.path("gates")).isEqualTo(JSON.readTree(stored));
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
        int v1 = publishedVersion(m);
        assertThat(moveAlias(m, "prod", v1, "no gates yet").status()).isEqualTo(200);
        // What the release before V36 inserts during a rolling update: the columns it knows, nothing else.
        int v2 = publishedVersion(m);
        jdbc.sql("INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_by, reason, overridden,"
                        + " gate_status, gate_reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .params(modelId(m), "prod", v1, v2, "previous-release", "moved by an old pod", false, null, null).update();
        // Gates that set no limit are a row all the same: recorded as set, with every limit empty.
        assertThat(putGates(m, "{}", publisher()).status()).isEqualTo(200);
        int v3 = publishedVersion(m);
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
        // isEmpty alone holds for a missing field too
        assertThat(empty.path("gates").path("maxP50Ms").isObject()).as(empty.toString()).isTrue();
        assertThat(empty.path("gates").path("maxP50Ms").isEmpty()).isTrue();
        // The stored form: no minCosineByPrecision when it sets none (docs/deploy.md, "Stored gates across releases").
        assertThat(empty.path("gates").has("minCosineByPrecision")).as(empty.toString()).isFalse();
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
     * A record written by a later release, with a field this release does not know and a precision key it does not
     * know (which the Gates constructor refuses), reads as stored: the history answers, and shows every limit the move
     * was checked against. The rows are append-only, so a record that failed to read could never be repaired.
     */
    @Test
    void aRecordWrittenByALaterReleaseReadsAsStored() {
        String m = "alias-gates-later-release";
        createModel(m);
        int v1 = publishedVersion(m);
        assertThat(moveAlias(m, "prod", v1, "this release").status()).isEqualTo(200);
        int v2 = publishedVersion(m);
        String later = "{\"minCosine\": 0.99, \"maxP99Ms\": {\"A17_PRO\": 9.5}, \"minCosineByPrecision\": {\"fp4-e2m1\": 0.9}}";
        jdbc.sql("INSERT INTO alias_history (model_id, alias, from_version, to_version, changed_by, reason, overridden,"
                        + " gates_recorded, gates_in_force) VALUES (?, ?, ?, ?, ?, ?, false, true, CAST(? AS jsonb))")
                .params(modelId(m), "prod", v1, v2, "later-release", "moved by a newer pod", later).update();

        JsonNode history = history(m, "prod");
        assertThat(history).as(history.toString()).hasSize(2);
        JsonNode recorded = history.get(1).path("gatesInForce");
        assertThat(recorded.path("set").asBoolean()).as(recorded.toString()).isTrue();
        assertThat(recorded.path("gates")).isEqualTo(JSON.readTree(later));
        assertThat(recorded.path("gates").path("maxP99Ms").path("A17_PRO").asDouble()).isEqualTo(9.5);
        assertThat(recorded.path("gates").path("minCosineByPrecision").path("fp4-e2m1").asDouble()).isEqualTo(0.9);
    }

    /**
     * A gate change waits for a move under way: the move holds the model row (Aliases.lockModel) from before its
     * verdict to its commit, and {@code PUT .../gates} takes the same lock, so no gate change lands between the gates a
     * move checked and the gates it records. Here the test holds the row as a move does, and the real PUT waits for it.
     */
    @Test
    void aGateChangeWaitsForTheModelRowAMoveHolds() throws Exception {
        String m = "alias-gates-race";
        createModel(m);
        assertThat(putGates(m, SIZE_AND_INT4, publisher()).status()).isEqualTo(200);
        CompletableFuture<Response> change;
        try (ModelRowLock move = new ModelRowLock(dataSource, modelId(m))) {
            change = CompletableFuture.supplyAsync(() -> putGates(m,
                    "{\"maxArtifactBytes\":30000000,\"minCosineByPrecision\":{\"int4\":0.99}}", publisher()));
            move.awaitWaiting(1);
            assertThat(change.isDone()).as("the gate change waits for the move to commit").isFalse();
            move.release();
        }
        Response changed = change.get(30, TimeUnit.SECONDS);
        assertThat(changed.status()).as(changed.text()).isEqualTo(200);
        JsonNode now = get("/api/v1/models/" + m + "/gates", reader()).json();
        assertThat(now.path("gates").path("maxArtifactBytes").asLong()).as(now.toString()).isEqualTo(30_000_000L);
    }
}
