package io.aneforge.registry.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.MigrationUpgrade;
import io.aneforge.registry.job.JobTestSupport;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * review-d: a version without golden data is not published unless its publisher says so (with a reason); then the
 * choice is kept, its jobs are cancelled instead of waiting forever, the matrix says accuracy was not checked (never
 * PASS), and resolve serves it.
 */
class GoldenDataOnPublishTest extends JobTestSupport {

    private Response publishWith(String model, int version, Object body) {
        return send("POST", "/api/v1/models/" + model + "/versions/" + version + "/publish", publisher(), body);
    }

    private JsonNode matrix(String model, int version) {
        Response r = get("/api/v1/models/" + model + "/versions/" + version + "/matrix", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    @Test
    void aDraftWithoutGoldenDataIsRefusedWithTheFix() {
        createModel("golden-refused");
        int v = createVersion("golden-refused");
        addVariant("golden-refused", v, "A17_PRO", "18.0", "ane", "fp16");
        for (Object body : new Object[] {null, Map.of(), Map.of("withoutGoldenData", false)}) {
            Response r = publishWith("golden-refused", v, body);
            assertThat(r.status()).as(r.text()).isEqualTo(409);
            assertThat(r.problem()).isEqualTo("golden-data-missing");
            assertThat(r.json().path("detail").asString())
                    .contains("PUT /api/v1/models/golden-refused/versions/" + v + "/golden")
                    .contains("./aneforge publish --dir")
                    .contains("\"withoutGoldenData\": true, \"reason\"");
        }
        assertThat(get("/api/v1/models/golden-refused/versions/" + v, reader()).json().path("status").asString())
                .isEqualTo("draft");

        // an opt-out needs its reason, and a reason alone opts out of nothing
        Response noReason = publishWith("golden-refused", v, Map.of("withoutGoldenData", true));
        assertThat(noReason.status()).as(noReason.text()).isEqualTo(400);
        assertThat(noReason.problem()).isEqualTo("reason-required");
        Response blank = publishWith("golden-refused", v, Map.of("withoutGoldenData", true, "reason", "  "));
        assertThat(blank.problem()).isEqualTo("reason-required");
        Response reasonOnly = publishWith("golden-refused", v, Map.of("reason", "why not"));
        assertThat(reasonOnly.status()).as(reasonOnly.text()).isEqualTo(400);
        assertThat(reasonOnly.json().path("detail").asString()).contains("withoutGoldenData");

        // with golden data stored it publishes as before, and an opt-out of golden data it has is refused
        setGolden("golden-refused", v);
        Response present = publishWith("golden-refused", v, Map.of("withoutGoldenData", true, "reason", "habit"));
        assertThat(present.status()).as(present.text()).isEqualTo(409);
        assertThat(present.problem()).isEqualTo("golden-data-present");
        publish("golden-refused", v);
        JsonNode published = get("/api/v1/models/golden-refused/versions/" + v, reader()).json();
        assertThat(published.path("status").asString()).isEqualTo("published");
        assertThat(published.path("publishedWithoutGoldenData").isNull()).isTrue();
        // withdrawn again: its jobs are ready, and no agent of this suite is meant to run them
        assertThat(send("POST", "/api/v1/models/golden-refused/versions/" + v + "/yank", publisher(),
                Map.of("reason", "test version")).status()).isEqualTo(200);
    }

    /** review-r 8: the opt-out is a person's decision; a worker publishes through conversion completion, with golden data. */
    @Test
    void theWorkerRoleMayNotOptOut() {
        createModel("golden-worker");
        int v = createVersion("golden-worker");
        addVariant("golden-worker", v, "A17_PRO", "18.0", "ane", "fp16");
        String path = "/api/v1/models/golden-worker/versions/" + v + "/publish";
        Response refused = send("POST", path, token("worker"), Map.of("withoutGoldenData", true, "reason", "worker shortcut"),
                "X-Request-Id", "golden-worker-opt-out");
        assertThat(refused.status()).as(refused.text()).isEqualTo(403);
        assertThat(refused.problem()).isEqualTo("forbidden-role");
        assertThat(refused.json().path("role").asString()).isEqualTo("worker");
        assertThat(refused.json().path("detail").asString()).contains("\"withoutGoldenData\": true")
                .contains("allowed: publisher, admin");
        assertThat(auditEvents("golden-worker-opt-out")).isEmpty();
        assertThat(get("/api/v1/models/golden-worker/versions/" + v, reader()).json().path("status").asString())
                .isEqualTo("draft");
        // the worker may still call publish: without the opt-out it gets the same refusal as anyone for missing data
        Response plain = send("POST", path, token("worker"), null);
        assertThat(plain.status()).as(plain.text()).isEqualTo(409);
        assertThat(plain.problem()).isEqualTo("golden-data-missing");
        // an admin may opt out
        Response admin = send("POST", path, ADMIN, Map.of("withoutGoldenData", true, "reason", "admin decided"));
        assertThat(admin.status()).as(admin.text()).isEqualTo(200);
    }

    @Test
    void anOptOutIsRecordedItsJobsAreCancelledAndResolveServesIt() {
        String m = "golden-optout";
        createModel(m);
        int v = createVersion(m);
        addVariant(m, v, "A17_PRO", "18.0", "ane", "fp16");
        Response r = publishWith(m, v, Map.of("withoutGoldenData", true, "reason", "hotfix, golden run broken"));
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("status").asString()).isEqualTo("published");
        JsonNode choice = r.json().path("publishedWithoutGoldenData");
        assertThat(choice.path("reason").asString()).isEqualTo("hotfix, golden run broken");
        assertThat(choice.path("by").asString()).isEqualTo(r.json().path("createdBy").asString()).isNotBlank();

        // nothing waits forever: every job is cancelled, saying why
        JsonNode jobs = jobs(m, v);
        assertThat(jobs.size()).isEqualTo(5);
        for (JsonNode j : jobs) {
            assertThat(j.path("state").asString()).isEqualTo("cancelled");
            assertThat(j.path("waitingFor").isNull() || j.path("waitingFor").isMissingNode()).isTrue();
            assertThat(j.path("failureReason").asString()).startsWith("published without golden data: ")
                    .contains("hotfix, golden run broken");
        }

        JsonNode matrix = matrix(m, v);
        assertThat(matrix.path("publishedWithoutGoldenData").path("reason").asString()).isEqualTo("hotfix, golden run broken");
        JsonNode row = matrix.path("rows").get(0);
        assertThat(row.path("fidelity").path("source").asString()).isEqualTo("cancelled");
        assertThat(row.path("fidelity").path("failure").asString()).startsWith("published without golden data: accuracy not checked");
        assertThat(row.path("cells").path("cpuOnly").path("source").asString()).isEqualTo("cancelled");
        assertThat(matrix.path("verdict").path("status").asString()).isEqualTo("NO_GATES");
        assertThat(matrix.path("verdict").path("reasons")).extracting(JsonNode::asString)
                .anySatisfy(x -> assertThat(x).contains("published without golden data: accuracy not checked")
                        .contains("hotfix, golden run broken"));

        // accuracy cannot be re-run against golden data it does not have
        Response rerun = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/accuracy-runs", publisher(), null);
        assertThat(rerun.problem()).isEqualTo("no-golden-data");

        // the publisher's explicit choice: an alias moves to it (no gates) and resolve serves it
        assertThat(moveAlias(m, "production", v, "ship the hotfix").status()).isEqualTo(200);
        Response resolved = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0", reader());
        assertThat(resolved.status()).as(resolved.text()).isEqualTo(200);
        assertThat(resolved.json().path("version").asInt()).isEqualTo(v);
    }

    @Test
    void gatesNeverPassAVersionWhoseAccuracyWasNotChecked() {
        String m = "golden-gated";
        createModel(m);
        // a size limit alone would pass: the size is known without any job
        Response gates = send("PUT", "/api/v1/models/" + m + "/gates", publisher(), "{\"maxArtifactBytes\": 100000000}");
        assertThat(gates.status()).as(gates.text()).isEqualTo(200);
        int v = createVersion(m);
        addVariant(m, v, "A17_PRO", "18.0", "ane", "fp16");
        Response r = publishWith(m, v, Map.of("withoutGoldenData", true, "reason", "no samples for this tokenizer"));
        assertThat(r.status()).as(r.text()).isEqualTo(200);

        JsonNode matrix = matrix(m, v);
        assertThat(matrix.path("verdict").path("status").asString()).isEqualTo("INCOMPLETE");
        assertThat(matrix.path("verdict").path("pendingCells")).extracting(JsonNode::asString).containsExactly("A17_PRO fp16");
        assertThat(matrix.path("verdict").path("reasons")).extracting(JsonNode::asString)
                .anySatisfy(x -> assertThat(x).contains("published without golden data: accuracy not checked"));
        JsonNode row = matrix.path("rows").get(0);
        assertThat(row.path("gateStatus").asString()).isEqualTo("INCOMPLETE");
        assertThat(row.path("gateReasons")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO fp16: published without golden data: accuracy not checked");

        // promotion checks the same verdict: a publisher's move is refused, an admin may override with a reason
        Response move = moveAlias(m, "production", v, "ship");
        assertThat(move.status()).as(move.text()).isEqualTo(409);
        assertThat(move.problem()).isEqualTo("gates-not-met");
        Map<String, Object> override = new HashMap<>(Map.of("version", v, "reason", "accepted unchecked", "override", true));
        Response forced = send("PUT", "/api/v1/models/" + m + "/aliases/production", ADMIN, override);
        assertThat(forced.status()).as(forced.text()).isEqualTo(200);
        assertThat(get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0", reader()).json().path("version").asInt())
                .isEqualTo(v);
    }

    /**
     * V23 on a database with V20 rows: a version published without golden data is recorded as such and its waiting
     * jobs cancelled; a draft's jobs (its golden data may still come) and a version with golden data are left alone.
     */
    @Test
    void v23RecordsEarlierVersionsWithoutGoldenDataAndCancelsTheirJobs() throws Exception {
        String pkg = "a".repeat(64);
        String golden = "b".repeat(64);
        MigrationUpgrade.from("20", st -> {
            for (String d : List.of(pkg, golden)) {
                st.execute("INSERT INTO blob (digest, size, media_type, storage_key, created_by) VALUES ('" + d
                        + "', 1, 'application/zip', 'blobs/sha256/" + d + "', 'test')");
            }
            st.execute("INSERT INTO model (id, name, task, owner) VALUES (1, 'm', 'feature-extraction', 't')");
            st.execute("INSERT INTO model_version (id, model_id, version, source_type, status, created_by, golden_digest,"
                    + " golden_inputs_digest) VALUES (1, 1, 1, 'upload', 'published', 't', NULL, NULL),"
                    + " (2, 1, 2, 'upload', 'draft', 't', NULL, NULL), (3, 1, 3, 'upload', 'published', 't', '" + golden
                    + "', '" + golden + "')");
            for (int v = 1; v <= 3; v++) {
                st.execute("INSERT INTO variant (id, version_id, chip, deployment_target, layout, precision, seq_len,"
                        + " blob_digest, size, status, created_by) VALUES (" + v + ", " + v + ", 'M2', '18.0', 'ane', 'fp16',"
                        + " 128, '" + pkg + "', 1, 'available', 't')");
                for (String kind : List.of("accuracy", "benchmark")) {
                    st.execute("INSERT INTO job (variant_id, kind, runtime, compute_units, state, ready, max_attempts) VALUES ("
                            + v + ", '" + kind + "', '" + (kind.equals("accuracy") ? "reference-cpu" : "coreml")
                            + "', 'cpuOnly', 'pending', " + (v == 3) + ", 3)");
                }
            }
        }, st -> {
            assertThat(MigrationUpgrade.rows(st, "SELECT version, published_without_golden_by, published_without_golden_reason"
                    + " FROM model_version ORDER BY version")).containsExactly(
                    "1/unknown (published before V23)/published before the registry refused versions without golden data",
                    "2/null/null", "3/null/null");
            ResultSet rs = st.executeQuery("SELECT v.version_id, j.kind, j.state, j.failure_reason FROM job j JOIN variant v"
                    + " ON v.id = j.variant_id ORDER BY v.version_id, j.kind");
            List<String> jobs = new ArrayList<>();
            while (rs.next()) jobs.add(rs.getLong(1) + " " + rs.getString(2) + " " + rs.getString(3) + " " + rs.getString(4));
            assertThat(jobs).containsExactly(
                    "1 accuracy cancelled published without golden data: accuracy not checked (by unknown (published"
                            + " before V23): published before the registry refused versions without golden data)",
                    "1 benchmark cancelled published without golden data: not benchmarked (benchmarks run the golden"
                            + " inputs) (by unknown (published before V23): published before the registry refused versions"
                            + " without golden data)",
                    "2 accuracy pending null", "2 benchmark pending null", "3 accuracy pending null", "3 benchmark pending null");
        });
    }
}
