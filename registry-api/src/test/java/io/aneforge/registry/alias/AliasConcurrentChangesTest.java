package io.aneforge.registry.alias;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Concurrent changes of one alias, over HTTP against the real database: each history entry's {@code fromVersion} is
 * the version the change before it left, whichever change the database lets go first. Under READ COMMITTED the alias
 * row lock alone did not give that: a change waiting on it re-checked only the locked row, lost its join to the old
 * version and recorded no previous version (a deletion answered 404 alias-not-set), and two first assignments both
 * recorded none. Moves and deletions now lock the model row first (Aliases.lockModel). The test holds that row so
 * both changes are waiting before either starts.
 */
class AliasConcurrentChangesTest extends AliasTestBase {

    private Response delete(String model, String alias, String reason) {
        return send("DELETE", "/api/v1/models/" + model + "/aliases/" + alias, publisher(), Map.of("reason", reason));
    }

    /** Runs the changes while the model row is held, once all of them wait for it; their responses, in that order. */
    @SafeVarargs
    private List<Response> whileHeld(String model, Supplier<Response>... changes) throws Exception {
        List<CompletableFuture<Response>> running = new ArrayList<>();
        try (ModelRowLock held = new ModelRowLock(dataSource, modelId(model))) {
            for (Supplier<Response> change : changes) running.add(CompletableFuture.supplyAsync(change));
            held.awaitWaiting(changes.length);
            assertThat(running).as("every change waits for the model row").noneMatch(CompletableFuture::isDone);
            held.release();
        }
        List<Response> out = new ArrayList<>();
        for (CompletableFuture<Response> r : running) out.add(r.get(30, TimeUnit.SECONDS));
        return out;
    }

    /** Each entry starts where the one before it ended: its fromVersion is the previous toVersion (null: none). */
    private static void assertChained(JsonNode history) {
        for (int i = 1; i < history.size(); i++) {
            assertThat(history.get(i).path("fromVersion")).as("entry %d of %s", i, history)
                    .isEqualTo(history.get(i - 1).path("toVersion"));
        }
    }

    @Test
    void concurrentMovesOfOneAliasEachRecordTheVersionTheOtherLeft() throws Exception {
        String m = "alias-concurrent-moves";
        createModel(m);
        int v1 = publishedVersion(m), v2 = publishedVersion(m), v3 = publishedVersion(m);
        assertThat(moveAlias(m, "prod", v1, "first").status()).isEqualTo(200);

        List<Response> moved = whileHeld(m, () -> moveAlias(m, "prod", v2, "to v2"), () -> moveAlias(m, "prod", v3, "to v3"));
        assertThat(moved).allSatisfy(r -> assertThat(r.status()).as(r.text()).isEqualTo(200));

        JsonNode history = history(m, "prod");
        assertThat(history).as(history.toString()).hasSize(3);
        assertThat(history.get(1).path("fromVersion").asInt()).as(history.toString()).isEqualTo(v1);
        assertChained(history);
        assertThat(List.of(history.get(1).path("toVersion").asInt(), history.get(2).path("toVersion").asInt()))
                .containsExactlyInAnyOrder(v2, v3);
        // The alias points where the last recorded move took it.
        JsonNode alias = get("/api/v1/models/" + m + "/aliases/prod", reader()).json();
        assertThat(alias.path("version").asInt()).isEqualTo(history.get(2).path("toVersion").asInt());
    }

    @Test
    void concurrentFirstAssignmentsRecordOneFirstAssignment() throws Exception {
        String m = "alias-concurrent-first";
        createModel(m);
        int v1 = publishedVersion(m), v2 = publishedVersion(m);

        List<Response> moved = whileHeld(m, () -> moveAlias(m, "prod", v1, "to v1"), () -> moveAlias(m, "prod", v2, "to v2"));
        assertThat(moved).allSatisfy(r -> assertThat(r.status()).as(r.text()).isEqualTo(200));

        JsonNode history = history(m, "prod");
        assertThat(history).as(history.toString()).hasSize(2);
        assertThat(history.get(0).path("fromVersion").isNull()).as(history.toString()).isTrue();
        assertThat(history.get(1).path("fromVersion").isNull()).as("only one first assignment: %s", history).isFalse();
        assertChained(history);
    }

    @Test
    void aDeletionDuringAMoveFindsTheAliasAndRecordsWhatItRemoved() throws Exception {
        String m = "alias-concurrent-delete";
        createModel(m);
        int v1 = publishedVersion(m), v2 = publishedVersion(m);
        assertThat(moveAlias(m, "prod", v1, "first").status()).isEqualTo(200);

        List<Response> done = whileHeld(m, () -> moveAlias(m, "prod", v2, "to v2"), () -> delete(m, "prod", "withdraw"));
        assertThat(done.get(0).status()).as(done.get(0).text()).isEqualTo(200);
        assertThat(done.get(1).status()).as(done.get(1).text()).isEqualTo(204);

        JsonNode history = history(m, "prod");
        assertThat(history).as(history.toString()).hasSize(3);
        assertChained(history);
        // Either order is correct; in both, the deletion names the version it removed.
        JsonNode deletion = history.get(1).path("toVersion").isNull() ? history.get(1) : history.get(2);
        assertThat(deletion.path("fromVersion").isInt()).as(history.toString()).isTrue();
    }
}
