package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST .../accuracy-runs}: a version's accuracy jobs queued again (results reported before the agents compared
 * real tokens only counted padding), earlier results kept as history, and the matrix and gates going by the newest
 * finished run.
 */
class AccuracyRerunTest extends MatrixTestSupport {

    private static final String GATES = "{\"minCosine\":0.999}";

    private Response rerun(String model, int version, String token) {
        return send("POST", "/api/v1/models/" + model + "/versions/" + version + "/accuracy-runs", token, null);
    }

    private List<JsonNode> accuracyJobs(String model, int version) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode j : jobs(model, version)) if (j.path("kind").asString().equals("accuracy")) out.add(j);
        return out;
    }

    @Test
    void aRerunQueuesNewJobsKeepsTheOldResultsAndTheNewestFinishedRunDecides() {
        String m = "acc-rerun";
        createModel(m);
        assertThat(putGates(m, GATES, publisher()).status()).isEqualTo(200);
        int v = createVersion(m);
        variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.0625f), List.of("cpuAndNeuralEngine"));
        variant(m, v, "A17_PRO", "ane", "int8", 32, realPackage(32, 128, 0.1875f), List.of("cpuAndNeuralEngine"));

        Response noGolden = rerun(m, v, publisher());
        assertThat(noGolden.status()).as(noGolden.text()).isEqualTo(409);
        assertThat(noGolden.problem()).isEqualTo("no-golden-data");
        assertThat(noGolden.json().path("detail").asString()).contains("version " + v).contains("golden");

        setGolden(m, v);
        publish(m, v);
        // the first run counted padding: cosines below the gate
        runAgents(m, Map.of("A17_PRO", "acc-rerun-a17"), (chip, precision, kind, cu) ->
                kind.equals("accuracy") ? new Measured(0.95) : new Measured(2.0));
        JsonNode before = matrix(m, v, "");
        assertThat(before.path("verdict").path("status").asString()).isEqualTo("FAIL");
        long firstJob = row(before, "A17_PRO fp16").path("fidelity").path("jobId").asLong();

        assertThat(rerun(m, v, reader()).status()).isEqualTo(403);
        assertThat(rerun(m, 99, publisher()).status()).isEqualTo(404);
        Response queued = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/accuracy-runs", publisher(), null,
                "X-Request-Id", "acc-rerun-" + v);
        assertThat(queued.status()).as(queued.text()).isEqualTo(202);
        JsonNode audited = auditEvent("acc-rerun-" + v, "accuracy.rerun", "test-publisher");
        assertThat(audited.path("model").asString()).isEqualTo(m);
        assertThat(audited.path("version").asInt()).isEqualTo(v);
        assertThat(audited.path("detail").path("queued")).hasSize(2);
        assertThat(queued.json().path("queued")).hasSize(2);
        assertThat(queued.json().path("alreadyOpen")).isEmpty();
        for (JsonNode q : queued.json().path("queued")) assertThat(q.path("run").asInt()).isEqualTo(2);
        List<JsonNode> acc = accuracyJobs(m, v);
        assertThat(acc).extracting(j -> j.path("run").asInt()).containsExactly(1, 1, 2, 2);
        assertThat(acc).extracting(j -> j.path("state").asString()).containsExactly("succeeded", "succeeded", "pending", "pending");
        assertThat(acc.get(2).path("waitingFor").isNull()).as("runnable at once: the golden data is there").isTrue();

        // while the re-run is open: the earlier result stands, and a second request queues nothing more
        JsonNode during = matrix(m, v, "");
        assertThat(row(during, "A17_PRO fp16").path("fidelity").path("cosine").asDouble()).isEqualTo(0.95);
        assertThat(row(during, "A17_PRO fp16").path("fidelity").path("jobId").asLong()).isEqualTo(firstJob);
        Response again = rerun(m, v, publisher());
        assertThat(again.status()).as(again.text()).isEqualTo(409);
        assertThat(again.problem()).isEqualTo("accuracy-jobs-open");
        assertThat(again.json().path("detail").asString()).contains("/jobs");
        assertThat(accuracyJobs(m, v)).hasSize(4);

        // the re-run reports real-token cosines: they replace the earlier ones, which stay among the results
        runAgents(m, Map.of("A17_PRO", "acc-rerun-a17"), (chip, precision, kind, cu) -> new Measured(0.9999));
        JsonNode after = matrix(m, v, "");
        assertThat(after.path("verdict").path("status").asString()).as(after.path("verdict").toString()).isEqualTo("PASS");
        JsonNode fp16 = row(after, "A17_PRO fp16").path("fidelity");
        assertThat(fp16.path("cosine").asDouble()).isEqualTo(0.9999);
        assertThat(fp16.path("jobId").asLong()).isNotEqualTo(firstJob);
        List<Double> cosines = new ArrayList<>();
        for (JsonNode r : results(m, v)) if (r.path("kind").asString().equals("accuracy")) cosines.add(r.path("cosineMin").asDouble());
        assertThat(cosines).containsExactlyInAnyOrder(0.95, 0.95, 0.9999, 0.9999);

        // the newest finished run decides even when it is worse: a failed third run fails the gate
        assertThat(rerun(m, v, publisher()).status()).isEqualTo(202);
        runAgents(m, Map.of("A17_PRO", "acc-rerun-a17"), (chip, precision, kind, cu) -> new Failed("golden blob unreadable"));
        JsonNode third = matrix(m, v, "");
        assertThat(row(third, "A17_PRO int8-block32").path("fidelity").path("source").asString()).isEqualTo("failed");
        assertThat(third.path("verdict").path("status").asString()).isEqualTo("FAIL");
        assertThat(accuracyJobs(m, v)).extracting(j -> j.path("run").asInt()).containsExactly(1, 1, 2, 2, 3, 3);
    }

    @Test
    void aYankedVersionOrOneWithoutAvailableVariantsIsRefused() {
        String m = "acc-rerun-refused";
        createModel(m);
        int empty = createVersion(m);
        setGolden(m, empty);
        Response none = rerun(m, empty, publisher());
        assertThat(none.status()).as(none.text()).isEqualTo(409);
        assertThat(none.problem()).isEqualTo("no-available-variants");

        int v = createVersion(m);
        variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.3125f), List.of("cpuAndNeuralEngine"));
        setGolden(m, v);
        publish(m, v);
        assertThat(send("POST", "/api/v1/models/" + m + "/versions/" + v + "/yank", publisher(), Map.of("reason", "bad"))
                .status()).isEqualTo(200);
        Response yanked = rerun(m, v, publisher());
        assertThat(yanked.status()).as(yanked.text()).isEqualTo(409);
        assertThat(yanked.problem()).isEqualTo("version-yanked");
        assertThat(accuracyJobs(m, v)).extracting(j -> j.path("state").asString()).containsExactly("cancelled");
    }
}
