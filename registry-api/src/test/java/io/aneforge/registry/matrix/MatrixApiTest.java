package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Gates, the matrix (cells, sources, gate status, baseline deltas, CSV) and gated promotion, over HTTP. */
class MatrixApiTest extends MatrixTestSupport {

    private static final String GATES = "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0},\"maxP50MsDefault\":8.0}";

    /** v1 passes; v2 has a slower fp16 cell (+25 %) and an int8 variant whose cosine fails the gate. */
    private int[] twoVersions(String model) {
        createModel(model);
        assertThat(putGates(model, GATES, publisher()).status()).isEqualTo(200);
        int[] versions = new int[2];
        for (int i = 0; i < 2; i++) {
            int v = createVersion(model);
            versions[i] = v;
            variant(model, v, "A17_PRO", "ane", "fp16", null, realPackage(64, 128, i * 0.001f),
                    List.of("cpuAndNeuralEngine", "cpuOnly"));
            variant(model, v, "A17_PRO", "ane", "int8", 32, realPackage(64, 128, 0.5f + i * 0.001f),
                    List.of("cpuAndNeuralEngine"));
            setGolden(model, v);
            publish(model, v);
            boolean second = i == 1;
            runAgents(model, Map.of("A17_PRO", "mx-api-a17"), (chip, precision, kind, cu) -> {
                if (kind.equals("accuracy")) {
                    // the second int8's cosine as an agent reports it from golden format 3 (held positions only)
                    return new Measured(precision.equals("fp16") ? 0.99995 : second ? 0.9971 : 0.9995,
                            second && precision.equals("int8"));
                }
                if (precision.equals("int8")) return new Measured(second ? 1.4 : 1.5);
                return new Measured(cu.equals("cpuOnly") ? 9.0 : second ? 2.5 : 2.0);
            });
        }
        return versions;
    }

    @Test
    void gatesAreValidatedAndStoredPerModel() {
        createModel("mx-gates");
        JsonNode none = get("/api/v1/models/mx-gates/gates", reader()).json();
        assertThat(none.path("set").asBoolean()).isFalse();

        Response bad = putGates("mx-gates", "{\"minCosine\":1.5}", publisher());
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.problem()).isEqualTo("invalid-gates");
        assertThat(bad.json().path("detail").asString()).isEqualTo(
                "gates.minCosine must be in (0, 1], got 1.5 (e.g. 0.999 for int8 variants, 0.9999 for fp16)");
        Response typo = putGates("mx-gates", "{\"minCosin\":0.99}", publisher());
        assertThat(typo.status()).isEqualTo(400);
        assertThat(typo.json().path("detail").asString()).contains("minCosin").contains("fields are minCosine");
        Response chip = putGates("mx-gates", "{\"maxP50Ms\":{\"Z9\":3.0}}", publisher());
        assertThat(chip.status()).isEqualTo(400);
        assertThat(chip.json().path("detail").asString()).startsWith("gates.maxP50Ms: chip 'Z9' is not in the catalog");
        assertThat(putGates("mx-gates", GATES, reader()).status()).isEqualTo(403);

        Response ok = putGates("mx-gates", GATES, publisher());
        assertThat(ok.status()).as(ok.text()).isEqualTo(200);
        JsonNode stored = get("/api/v1/models/mx-gates/gates", reader()).json();
        assertThat(stored.path("set").asBoolean()).isTrue();
        assertThat(stored.path("gates").path("minCosine").asDouble()).isEqualTo(0.999);
        assertThat(stored.path("gates").path("maxP50Ms").path("A17_PRO").asDouble()).isEqualTo(3.0);
        assertThat(stored.path("updatedBy").asString()).isEqualTo("test-publisher");
    }

    @Test
    void matrixShowsMeasuredCellsWithProvenanceGateStatusAndBaselineDeltas() {
        int[] v = twoVersions("mx-api");
        JsonNode m = matrix("mx-api", v[1], "");
        assertThat(m.path("computeUnits")).extracting(JsonNode::asString).containsExactly("cpuOnly", "cpuAndNeuralEngine");
        assertThat(m.path("verdict").path("status").asString()).isEqualTo("FAIL");
        assertThat(m.path("verdict").path("failingCells")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO int8-block32");
        assertThat(m.path("verdict").path("reasons")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO int8-block32: cosine 0.9971 < 0.999");

        JsonNode fp16 = row(m, "A17_PRO fp16");
        assertThat(fp16.path("gateStatus").asString()).isEqualTo("PASS");
        assertThat(fp16.path("fidelity").path("cosine").asDouble()).isEqualTo(0.99995);
        assertThat(fp16.path("fidelity").path("heldPositionsOnly").isBoolean()).isTrue();
        assertThat(fp16.path("fidelity").path("heldPositionsOnly").asBoolean()).as("every real token").isFalse();
        JsonNode ane = fp16.path("cells").path("cpuAndNeuralEngine");
        assertThat(ane.path("source").asString()).isEqualTo("measured");
        assertThat(ane.path("p50Ms").asDouble()).isEqualTo(2.5);
        assertThat(ane.path("p90Ms").asDouble()).isEqualTo(3.0, within(1e-9));
        assertThat(ane.path("loadMs").asDouble()).isEqualTo(120.0);
        assertThat(ane.path("gate").asString()).isEqualTo("PASS");
        assertThat(ane.path("measuredOn").path("host").asString()).isEqualTo("mx-api-a17");
        assertThat(ane.path("measuredOn").path("osBuild").asString()).isEqualTo("24B83");
        assertThat(ane.path("measuredOn").path("runtime").asString()).isEqualTo("coreml");
        assertThat(ane.path("protocol").path("timedIterations").asInt()).isEqualTo(100);
        long jobId = ane.path("jobId").asLong();
        JsonNode job = null;
        for (JsonNode j : jobs("mx-api", v[1])) if (j.path("id").asLong() == jobId) job = j;
        assertThat(job).isNotNull();
        assertThat(job.path("computeUnits").asString()).isEqualTo("cpuAndNeuralEngine");
        assertThat(job.path("variantId").asLong()).isEqualTo(fp16.path("variantId").asLong());
        // cpuOnly is over the chip's 3 ms limit, but the gate uses the best measured setting
        assertThat(fp16.path("cells").path("cpuOnly").path("gate").asString()).isEqualTo("FAIL");
        assertThat(fp16.path("downloadUrl").asString()).isEqualTo("/api/v1/blobs/" + fp16.path("digest").asString());

        // The roofline estimate comes from the package itself: 2 FLOPs per MAC of a 128 x 64 x 64 linear.
        JsonNode est = fp16.path("estimate");
        assertThat(est.path("source").asString()).isEqualTo("estimated");
        assertThat(est.path("flops").asLong()).isEqualTo(2L * 128 * 64 * 64);
        assertThat(est.path("highMs").asDouble()).isGreaterThan(est.path("lowMs").asDouble());

        JsonNode int8 = row(m, "A17_PRO int8-block32");
        assertThat(int8.path("gateStatus").asString()).isEqualTo("FAIL");
        assertThat(int8.path("blockSize").asInt()).isEqualTo(32);
        assertThat(int8.path("fidelity").path("heldPositionsOnly").asBoolean()).as("comparedPositions reported").isTrue();
        assertThat(m.path("regressions")).isEmpty(); // no baseline asked for

        JsonNode vs = matrix("mx-api", v[1], "?baseline=" + v[0]);
        assertThat(vs.path("baseline").asInt()).isEqualTo(v[0]);
        JsonNode slower = row(vs, "A17_PRO fp16").path("cells").path("cpuAndNeuralEngine");
        assertThat(slower.path("baselineP50Ms").asDouble()).isEqualTo(2.0);
        assertThat(slower.path("p50Change").asDouble()).isEqualTo(0.25, within(1e-9));
        assertThat(slower.path("regression").asBoolean()).isTrue();
        JsonNode same = row(vs, "A17_PRO fp16").path("cells").path("cpuOnly");
        assertThat(same.path("p50Change").asDouble()).isEqualTo(0.0, within(1e-9));
        assertThat(same.path("regression").asBoolean()).isFalse();
        JsonNode faster = row(vs, "A17_PRO int8-block32").path("cells").path("cpuAndNeuralEngine");
        assertThat(faster.path("regression").asBoolean()).isFalse();
        JsonNode cosDelta = row(vs, "A17_PRO int8-block32").path("delta");
        assertThat(cosDelta.path("baselineCosine").asDouble()).isEqualTo(0.9995);
        assertThat(cosDelta.path("cosineChange").asDouble()).isEqualTo(-0.0024, within(1e-9));
        assertThat(cosDelta.path("regression").asBoolean()).isTrue();
        assertThat(vs.path("regressions")).extracting(JsonNode::asString).containsExactly(
                "A17_PRO int8-block32 seq128 iOS18.0: cosine 0.99710 vs 0.99950 (-0.00240) drops more than 0.0005",
                "A17_PRO fp16 seq128 iOS18.0 on cpuAndNeuralEngine: p50 2.50 ms vs 2.00 ms (+25.0 %) exceeds +10.0 %");

        Response self = get("/api/v1/models/mx-api/versions/" + v[1] + "/matrix?baseline=" + v[1], reader());
        assertThat(self.status()).isEqualTo(400);
        assertThat(self.problem()).isEqualTo("invalid-baseline");

        // CSV: the same table, one line per variant and setting.
        Response csv = get("/api/v1/models/mx-api/versions/" + v[1] + "/matrix?baseline=" + v[0], reader(),
                "Accept", "text/csv");
        assertThat(csv.status()).as(csv.text()).isEqualTo(200);
        assertThat(csv.header("Content-Type")).startsWith("text/csv");
        String[] lines = csv.text().split("\r\n");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).isEqualTo(String.join(",", MatrixCsv.HEADER));
        int p50 = MatrixCsv.HEADER.indexOf("p50_ms");
        int host = MatrixCsv.HEADER.indexOf("host");
        int change = MatrixCsv.HEADER.indexOf("p50_change");
        int regression = MatrixCsv.HEADER.indexOf("regression");
        String aneLine = null;
        for (String l : lines) if (l.contains(",A17_PRO fp16,") && l.contains(",cpuAndNeuralEngine,")) aneLine = l;
        assertThat(aneLine).isNotNull();
        String[] f = aneLine.split(",", -1);
        assertThat(f[p50]).isEqualTo("2.5");
        assertThat(f[host]).isEqualTo("mx-api-a17");
        assertThat(f[change]).isEqualTo("0.25");
        assertThat(f[regression]).isEqualTo("true");
        assertThat(f[MatrixCsv.HEADER.indexOf("variant_gate")]).isEqualTo("PASS");
        assertThat(csv.text()).contains(",A17_PRO int8-block32,").contains(",FAIL,0.9971,measured,");
        int held = MatrixCsv.HEADER.indexOf("fidelity_held_positions_only");
        assertThat(held).as("appended last").isEqualTo(MatrixCsv.HEADER.size() - 1);
        // the last column: read from the end, so quoted fields before it (reasons hold commas) cannot shift it
        assertThat(aneLine.substring(aneLine.lastIndexOf(',') + 1)).isEqualTo("false");
        for (String l : lines) {
            if (l.contains(",A17_PRO int8-block32,")) assertThat(l.substring(l.lastIndexOf(',') + 1)).isEqualTo("true");
        }
    }

    @Test
    void promotionIsRefusedWhileGatesFailAndAnAdminOverrideIsAudited() {
        int[] v = twoVersions("mx-promote");
        Response first = moveAlias("mx-promote", "prod", v[0], "first release");
        assertThat(first.status()).as(first.text()).isEqualTo(200);

        Response refused = moveAlias("mx-promote", "prod", v[1], "faster int8");
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.problem()).isEqualTo("gates-not-met");
        assertThat(refused.json().path("gateStatus").asString()).isEqualTo("FAIL");
        assertThat(refused.json().path("failingCells")).extracting(JsonNode::asString).containsExactly("A17_PRO int8-block32");
        assertThat(refused.json().path("detail").asString()).contains("A17_PRO int8-block32: cosine 0.9971 < 0.999")
                .contains("\"override\": true");
        assertThat(get("/api/v1/models/mx-promote/aliases/prod", reader()).json().path("version").asInt()).isEqualTo(v[0]);

        Response notAdmin = send("PUT", "/api/v1/models/mx-promote/aliases/prod", publisher(),
                Map.of("version", v[1], "reason", "ship it", "override", true));
        assertThat(notAdmin.status()).isEqualTo(403);
        assertThat(notAdmin.problem()).isEqualTo("override-needs-admin");
        Response noReason = send("PUT", "/api/v1/models/mx-promote/aliases/prod", ADMIN, Map.of("version", v[1], "override", true));
        assertThat(noReason.status()).isEqualTo(400);
        assertThat(noReason.problem()).isEqualTo("reason-required");

        Response overridden = send("PUT", "/api/v1/models/mx-promote/aliases/prod", ADMIN,
                Map.of("version", v[1], "reason", "cosine drop accepted for the latency win", "override", true));
        assertThat(overridden.status()).as(overridden.text()).isEqualTo(200);
        assertThat(overridden.json().path("version").asInt()).isEqualTo(v[1]);

        JsonNode history = get("/api/v1/models/mx-promote/aliases/prod/history", reader()).json();
        assertThat(history).hasSize(2);
        assertThat(history.get(0).path("overridden").asBoolean()).isFalse();
        assertThat(history.get(0).path("gateStatus").isNull()).isTrue();
        JsonNode last = history.get(1);
        assertThat(last.path("overridden").asBoolean()).isTrue();
        assertThat(last.path("changedBy").asString()).isEqualTo("bootstrap-admin");
        assertThat(last.path("reason").asString()).isEqualTo("cosine drop accepted for the latency win");
        assertThat(last.path("gateStatus").asString()).isEqualTo("FAIL");
        assertThat(last.path("gateReasons")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO int8-block32: cosine 0.9971 < 0.999");

        // An override on a passing version is just a move (nothing to override).
        Response back = send("PUT", "/api/v1/models/mx-promote/aliases/prod", ADMIN,
                Map.of("version", v[0], "reason", "roll back", "override", true));
        assertThat(back.status()).isEqualTo(200);
        assertThat(get("/api/v1/models/mx-promote/aliases/prod/history", reader()).json().get(2).path("overridden").asBoolean())
                .isFalse();
    }

    @Test
    void pendingResultsKeepTheVersionIncompleteAndCellsShowEstimatesOrPending() {
        createModel("mx-pending");
        assertThat(putGates("mx-pending", GATES, publisher()).status()).isEqualTo(200);
        int v = createVersion("mx-pending");
        variant("mx-pending", v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.25f),
                List.of("cpuAndNeuralEngine", "all"));
        variant("mx-pending", v, "M2", "ane", "fp16", null, withoutWeights(realPackage(32, 128, 0.375f)), List.of("cpuAndNeuralEngine"));
        setGolden("mx-pending", v);
        publish("mx-pending", v);
        // cpuAndNeuralEngine is measured over the limit; "all" stays running: the latency FAIL is not final yet.
        runAgents("mx-pending", Map.of("A17_PRO", "mx-pending-a17"), (chip, precision, kind, cu) -> {
            if (!chip.equals("A17_PRO")) return new Skip();
            if (kind.equals("accuracy")) return new Measured(0.99999);
            return cu.equals("all") ? new Skip() : new Measured(4.2);
        });
        JsonNode m = matrix("mx-pending", v, "");
        assertThat(m.path("verdict").path("status").asString()).isEqualTo("INCOMPLETE");
        assertThat(m.path("verdict").path("pendingCells")).extracting(JsonNode::asString)
                .containsExactlyInAnyOrder("A17_PRO fp16", "M2 fp16");
        assertThat(m.path("verdict").path("reasons")).extracting(JsonNode::asString).contains(
                "A17_PRO fp16: p50 4.2 ms > 3.0 ms on cpuAndNeuralEngine (best so far; waiting for all)",
                "M2 fp16: no accuracy result yet");
        JsonNode a17 = row(m, "A17_PRO fp16");
        assertThat(a17.path("cells").path("cpuAndNeuralEngine").path("gate").asString()).isEqualTo("FAIL");
        JsonNode running = a17.path("cells").path("all");
        assertThat(running.path("source").asString()).isEqualTo("estimated");
        assertThat(running.path("estimateLowMs").asDouble()).isEqualTo(a17.path("estimate").path("lowMs").asDouble());
        assertThat(running.path("jobState").asString()).isIn("leased", "pending");
        JsonNode m2 = row(m, "M2 fp16");
        assertThat(m2.path("estimate").isNull()).isTrue();
        assertThat(m2.path("estimateUnavailable").asString()).startsWith("the package could not be read as a MIL program")
                .doesNotContain("aneforge-cost-"); // no path of the server's scratch directory
        assertThat(m2.path("cells").path("cpuAndNeuralEngine").path("source").asString()).isEqualTo("pending");

        Response refused = moveAlias("mx-pending", "prod", v, "early");
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("gateStatus").asString()).isEqualTo("INCOMPLETE");
        assertThat(refused.json().path("pendingCells")).extracting(JsonNode::asString)
                .containsExactlyInAnyOrder("A17_PRO fp16", "M2 fp16");
    }

    /** review-d #11: a pending cell and a pending fidelity carry the jobs list's waitingFor, in the JSON and the CSV. */
    @Test
    void pendingCellsSayWhatTheirJobWaitsFor() {
        createModel("mx-waiting");
        int v = createVersion("mx-waiting");
        addVariant("mx-waiting", v, "M2", "18.0", "ane", "fp16");
        // a draft without golden data (publishing would refuse it): no job of it can be leased, whoever is online
        JsonNode m = matrix("mx-waiting", v, "");
        JsonNode row = row(m, "M2 fp16");
        String expected = "golden inputs and outputs of version " + v + " are not stored yet";
        JsonNode cell = row.path("cells").path("cpuOnly");
        assertThat(cell.path("source").asString()).isEqualTo("pending");
        assertThat(cell.path("waitingFor").asString()).startsWith(expected);
        assertThat(row.path("fidelity").path("source").asString()).isEqualTo("pending");
        assertThat(row.path("fidelity").path("waitingFor").asString()).startsWith(expected);
        // the very text of the jobs list, job by job
        JsonNode jobs = get("/api/v1/models/mx-waiting/versions/" + v + "/jobs", reader()).json();
        for (JsonNode j : jobs) {
            long id = j.path("id").asLong();
            JsonNode shown = j.path("kind").asString().equals("accuracy") ? row.path("fidelity")
                    : row.path("cells").path(j.path("computeUnits").asString());
            assertThat(shown.path("jobId").asLong()).isEqualTo(id);
            assertThat(shown.path("waitingFor").asString()).isEqualTo(j.path("waitingFor").asString());
        }
        // without gates the verdict is NO_GATES: its one reason names how to set gates, and it waits for nothing
        assertThat(m.path("verdict").path("status").asString()).isEqualTo("NO_GATES");
        assertThat(m.path("verdict").path("reasons")).extracting(JsonNode::asString)
                .noneSatisfy(r -> assertThat(r).contains("jobs wait"));
        String csv = get("/api/v1/models/mx-waiting/versions/" + v + "/matrix", reader(), "Accept", "text/csv").text();
        assertThat(csv.split("\r\n")[0]).contains(",waiting_for,fidelity_waiting_for,"); // later columns are appended after them
        assertThat(csv.split("\r\n")[1]).contains(expected);

        // gated: the INCOMPLETE verdict names what its pending jobs wait for, once per reason with the count
        assertThat(putGates("mx-waiting", "{\"minCosine\":0.999}", publisher()).status()).isEqualTo(200);
        JsonNode verdict = matrix("mx-waiting", v, "").path("verdict");
        assertThat(verdict.path("status").asString()).isEqualTo("INCOMPLETE");
        assertThat(verdict.path("reasons")).extracting(JsonNode::asString)
                .contains("M2 fp16: no accuracy result yet")
                .anySatisfy(r -> assertThat(r).startsWith("5 jobs wait: " + expected));
    }

    @Test
    void modelsWithoutGatesPromoteAsBefore() {
        createModel("mx-nogates");
        int v = createVersion("mx-nogates");
        addVariant("mx-nogates", v, "M2", "18.0", "ane", "fp16");
        publishWithoutGoldenData("mx-nogates", v);
        assertThat(moveAlias("mx-nogates", "prod", v, "no gates").status()).isEqualTo(200);
        JsonNode m = matrix("mx-nogates", v, "");
        assertThat(m.path("gatesSet").asBoolean()).isFalse();
        assertThat(m.path("verdict").path("status").asString()).isEqualTo("NO_GATES");
    }

    /**
     * The QA page polls the matrix while it is open: the JSON (and the CSV) carry a content-hash ETag, and
     * If-None-Match with it is a 304 without a body until a result changes the matrix.
     */
    @Test
    void theMatrixAnswers304ToItsEtagUntilAResultChangesIt() {
        String model = "mx-etag";
        createModel(model);
        int v = createVersion(model);
        variant(model, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.125f), List.of("cpuAndNeuralEngine"));
        setGolden(model, v);
        publish(model, v);
        String path = "/api/v1/models/" + model + "/versions/" + v + "/matrix";

        Response first = get(path, reader());
        assertThat(first.status()).isEqualTo(200);
        String etag = first.header("ETag");
        assertThat(etag).startsWith("\"").endsWith("\"");
        assertThat(get(path, reader()).header("ETag")).as("the same matrix, the same tag").isEqualTo(etag);

        Response again = get(path, reader(), "If-None-Match", etag);
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(get(path, reader(), "If-None-Match", "\"0123abcd\"").status()).isEqualTo(200);
        // the token is checked first: no 304 for a caller who may not read the matrix
        assertThat(get(path, null, "If-None-Match", etag).status()).isEqualTo(401);
        // the CSV is another representation with its own tag
        Response csv = get(path, reader(), "Accept", "text/csv");
        assertThat(csv.status()).isEqualTo(200);
        assertThat(csv.header("ETag")).isNotNull().isNotEqualTo(etag);
        assertThat(get(path, reader(), "Accept", "text/csv", "If-None-Match", csv.header("ETag")).status()).isEqualTo(304);
        // other endpoints are not hashed
        assertThat(get("/api/v1/models/" + model + "/versions", reader()).header("ETag")).isNull();

        // an agent reports: the matrix changed, so the old tag gets the new matrix and a new tag
        runAgents(model, Map.of("A17_PRO", "mx-etag-a17"), (chip, precision, kind, cu) ->
                new Measured(kind.equals("accuracy") ? 0.99995 : 2.0));
        Response changed = get(path, reader(), "If-None-Match", etag);
        assertThat(changed.status()).isEqualTo(200);
        assertThat(changed.header("ETag")).isNotEqualTo(etag);
        assertThat(row(changed.json(), "A17_PRO fp16").path("cells").path("cpuAndNeuralEngine").path("source").asString())
                .isEqualTo("measured");
        assertThat(get(path, reader(), "If-None-Match", changed.header("ETag")).status()).isEqualTo(304);
    }

    @Test
    void theMatrixNamesItsRegressionThresholdsOnlyAgainstABaseline() {
        int[] v = twoVersions("mx-thresholds");
        assertThat(matrix("mx-thresholds", v[1], "").path("regressionThresholds").isNull()).isTrue();
        JsonNode t = matrix("mx-thresholds", v[1], "?baseline=" + v[0]).path("regressionThresholds");
        assertThat(t.path("latencyIncrease").asDouble()).isEqualTo(0.10);
        assertThat(t.path("cosineDrop").asDouble()).isEqualTo(0.0005);
    }
}
