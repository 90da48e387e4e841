package io.aneforge.registry.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.RegistryTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

class VersionLifecycleTest extends RegistryTestBase {

    @Autowired
    JdbcClient jdbc;

    @Test
    void sixteenParallelVersionCreationsGetSixteenDistinctNumbers() throws Exception {
        createModel("parallel");
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<CompletableFuture<Response>> futures = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                futures.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return send("POST", "/api/v1/models/parallel/versions", publisher(),
                            Map.of("source", Map.of("type", "hub", "repo", "sentence-transformers/all-MiniLM-L6-v2")));
                }, pool));
            }
            start.countDown();
            TreeSet<Integer> versions = new TreeSet<>();
            for (CompletableFuture<Response> f : futures) {
                Response r = f.get();
                assertThat(r.status()).as(r.text()).isEqualTo(201);
                versions.add(r.json().path("version").asInt());
            }
            assertThat(versions).hasSize(16).first().isEqualTo(1);
            assertThat(versions.last()).isEqualTo(16);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The naming rules are ane-core's RegistryNames, which the CLI checks too; the API words its own 400s. */
    @Test
    void modelAndAliasNamesFollowTheSharedRules() {
        Response upper = send("POST", "/api/v1/models", publisher(), Map.of("name", "MiniLM", "task", "feature-extraction"));
        assertThat(upper.status()).isEqualTo(400);
        assertThat(upper.problem()).isEqualTo("invalid-model-name");
        assertThat(upper.json().path("detail").asString())
                .isEqualTo("model name 'MiniLM' must match [a-z0-9][a-z0-9._-]{0,127} (lowercase letters, digits, . _ -)");
        createModel("named");
        int v1 = createVersion("named");
        Response alias = moveAlias("named", "a".repeat(65), v1, "too long");
        assertThat(alias.problem()).isEqualTo("invalid-alias-name");
        assertThat(alias.json().path("detail").asString())
                .isEqualTo("alias '" + "a".repeat(65) + "' must match [a-z0-9][a-z0-9._-]{0,63}");
    }

    @Test
    void hubSourcesArePinnedOnlyByA40HexRevision() {
        createModel("hub-src");
        JsonNode main = send("POST", "/api/v1/models/hub-src/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/name", "revision", "main"))).json();
        assertThat(main.path("source").path("revision").asString()).isEqualTo("main");
        assertThat(main.path("source").path("commit").isNull()).isTrue();
        String sha = "0123456789abcdef0123456789abcdef01234567";
        JsonNode pinned = send("POST", "/api/v1/models/hub-src/versions", publisher(),
                Map.of("source", Map.of("type", "hub", "repo", "org/name", "revision", sha))).json();
        assertThat(pinned.path("source").path("commit").asString()).isEqualTo(sha);
        Response bad = send("POST", "/api/v1/models/hub-src/versions", publisher(), Map.of("source", Map.of("type", "git")));
        assertThat(bad.problem()).isEqualTo("invalid-source");
    }

    /** Revisions and repo ids the Hub client would refuse (or that would lead outside its cache) are not stored. */
    @Test
    void hubSourcesTheWorkerCouldNeverFetchAreRefused() {
        createModel("hub-bad");
        for (Map<String, String> source : List.of(
                Map.of("type", "hub", "repo", "org/name", "revision", "/etc/passwd"),
                Map.of("type", "hub", "repo", "org/name", "revision", "a..b"),
                Map.of("type", "hub", "repo", "org/name", "revision", "refs/heads/main.lock"),
                Map.of("type", "hub", "repo", "org--x/name", "revision", "main"),
                Map.of("type", "hub", "repo", "org/name.", "revision", "main"))) {
            Response bad = send("POST", "/api/v1/models/hub-bad/versions", publisher(), Map.of("source", source));
            assertThat(bad.status()).as(source.toString()).isEqualTo(400);
            assertThat(bad.problem()).as(source.toString()).isEqualTo("invalid-source");
            assertThat(bad.json().path("detail").asString()).as(source.toString())
                    .startsWith(source.get("revision").equals("main") ? "source.repo: " : "source.revision: ");
        }
        assertThat(send("GET", "/api/v1/models/hub-bad/versions", publisher(), null).json().path("items").size())
                .as("versions stored").isZero();
    }

    @Test
    void publishedVersionsAreImmutableAndYankingIsGuardedByAliases() {
        createModel("immutable");
        int v1 = createVersion("immutable");
        Response empty = send("POST", "/api/v1/models/immutable/versions/" + v1 + "/publish", publisher(), null);
        assertThat(empty.problem()).isEqualTo("version-has-no-variants");
        addVariant("immutable", v1, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData("immutable", v1);

        Response late = registerVariant("immutable", v1, "A16", "17.0", "ane", "fp16", upload(mlpackage("late")));
        assertThat(late.status()).isEqualTo(409);
        assertThat(late.problem()).isEqualTo("version-immutable");
        assertThat(send("POST", "/api/v1/models/immutable/versions/" + v1 + "/publish", publisher(), null).problem())
                .isEqualTo("version-immutable");
        // No endpoint rewrites a variant or deletes a version.
        assertThat(send("DELETE", "/api/v1/models/immutable/versions/" + v1, publisher(), null).status()).isEqualTo(405);

        assertThat(moveAlias("immutable", "production", v1, "ship it").status()).isEqualTo(200);
        Response yank = send("POST", "/api/v1/models/immutable/versions/" + v1 + "/yank", publisher(), Map.of("reason", "bad"));
        assertThat(yank.status()).isEqualTo(409);
        assertThat(yank.problem()).isEqualTo("version-aliased");
        assertThat(yank.json().path("detail").asString()).contains("alias(es) [production]");

        int v2 = createVersion("immutable");
        addVariant("immutable", v2, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData("immutable", v2);
        assertThat(moveAlias("immutable", "production", v2, "fix").status()).isEqualTo(200);
        Response noReason = send("POST", "/api/v1/models/immutable/versions/" + v1 + "/yank", publisher(), Map.of("reason", " "));
        assertThat(noReason.problem()).isEqualTo("reason-required");
        Response yanked = send("POST", "/api/v1/models/immutable/versions/" + v1 + "/yank", publisher(), Map.of("reason", "bad"));
        assertThat(yanked.status()).as(yanked.text()).isEqualTo(200);
        assertThat(yanked.json().path("status").asString()).isEqualTo("yanked");
        assertThat(moveAlias("immutable", "production", v1, "back").problem()).isEqualTo("version-not-published");
    }

    @Test
    void aliasMovesAreRecordedInAnAppendOnlyHistory() {
        createModel("aliased");
        int v1 = createVersion("aliased");
        addVariant("aliased", v1, "A16", "17.0", "ane", "fp16");
        publishWithoutGoldenData("aliased", v1);
        int v2 = createVersion("aliased");
        addVariant("aliased", v2, "A16", "17.0", "ane", "fp16");
        Response draft = moveAlias("aliased", "production", v2, "too early");
        assertThat(draft.status()).isEqualTo(409);
        assertThat(draft.problem()).isEqualTo("version-not-published");
        publishWithoutGoldenData("aliased", v2);

        assertThat(moveAlias("aliased", "production", v1, "initial").status()).isEqualTo(200);
        assertThat(get("/api/v1/models/aliased/resolve?chip=A16&os=17.0", reader()).json().path("version").asInt()).isEqualTo(v1);
        assertThat(moveAlias("aliased", "production", v2, "v2 passed gates").status()).isEqualTo(200);
        // The resolve answer follows the move at once (local cache invalidation).
        assertThat(get("/api/v1/models/aliased/resolve?chip=A16&os=17.0", reader()).json().path("version").asInt()).isEqualTo(v2);
        assertThat(moveAlias("aliased", "production", v1, "rollback").status()).isEqualTo(200);

        JsonNode alias = get("/api/v1/models/aliased/aliases/production", reader()).json();
        assertThat(alias.path("version").asInt()).isEqualTo(v1);
        JsonNode h = get("/api/v1/models/aliased/aliases/production/history", reader()).json();
        assertThat(h.size()).isEqualTo(3);
        assertThat(h.get(0).path("fromVersion").isNull()).isTrue();
        assertThat(h.get(0).path("toVersion").asInt()).isEqualTo(v1);
        assertThat(h.get(1).path("fromVersion").asInt()).isEqualTo(v1);
        assertThat(h.get(1).path("toVersion").asInt()).isEqualTo(v2);
        assertThat(h.get(1).path("reason").asString()).isEqualTo("v2 passed gates");
        assertThat(h.get(1).path("changedBy").asString()).isEqualTo("test-publisher");
        assertThat(h.get(2).path("reason").asString()).isEqualTo("rollback");

        assertThatThrownBy(() -> jdbc.sql("UPDATE alias_history SET reason = 'rewritten'").update())
                .hasMessageContaining("alias_history is append-only");
        assertThatThrownBy(() -> jdbc.sql("DELETE FROM alias_history").update())
                .hasMessageContaining("alias_history is append-only");
    }

    @Test
    void archivesThatAreNotMlpackagesAreRefused() {
        createModel("archives");
        int v = createVersion("archives");
        Response slip = registerVariant("archives", v, "A16", "17.0", "ane", "fp16",
                upload(zip("Model.mlpackage/Manifest.json", "{}", "Model.mlpackage/../../evil.sh", "rm -rf /")));
        assertThat(slip.status()).isEqualTo(422);
        assertThat(slip.problem()).isEqualTo("invalid-mlpackage");
        assertThat(slip.json().path("detail").asString()).contains("entry 'Model.mlpackage/../../evil.sh' contains a '..' segment");

        Response absolute = registerVariant("archives", v, "A16", "17.0", "ane", "fp16",
                upload(zip("Manifest.json", "{}", "/etc/passwd", "x")));
        assertThat(absolute.json().path("detail").asString()).contains("entry '/etc/passwd' is an absolute path");

        Response noManifest = registerVariant("archives", v, "A16", "17.0", "ane", "fp16",
                upload(zip("Model.mlpackage/Data/model.mlmodel", "x")));
        assertThat(noManifest.json().path("detail").asString()).contains("no Manifest.json at the package root");

        Response notZip = registerVariant("archives", v, "A16", "17.0", "ane", "fp16", upload("plain text".getBytes()));
        assertThat(notZip.problem()).isEqualTo("invalid-mlpackage");

        Response missing = registerVariant("archives", v, "A16", "17.0", "ane", "fp16", "sha256:" + "0".repeat(64));
        assertThat(missing.problem()).isEqualTo("blob-not-found");
        Response chip = registerVariant("archives", v, "A99", "17.0", "ane", "fp16", upload(mlpackage("chip")));
        assertThat(chip.problem()).isEqualTo("unknown-chip");

        assertThat(registerVariant("archives", v, "A16", "17.0", "ane", "fp16", upload(mlpackage("ok"))).status()).isEqualTo(201);
        Response dup = registerVariant("archives", v, "A16", "17.0", "ane", "fp16", upload(mlpackage("ok2")));
        assertThat(dup.problem()).isEqualTo("variant-exists");
    }
}
