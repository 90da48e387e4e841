package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * What the matrix's fields mean: the verdict is promotion's, estimates only where their basis applies,
 * yanked rows and versions are cancelled rather than pending, and the CSV is the JSON flattened and safe
 * to open in a spreadsheet.
 */
class MatrixSemanticsTest extends MatrixTestSupport {

    private static final String GATES = "{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0},\"maxP50MsDefault\":8.0}";

    @Test
    void withoutGatesTheMatrixVerdictIsTheOnePromotionChecks() {
        String m = "mx-ungated";
        createModel(m);
        int v = createVersion(m);
        variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.125f), List.of("cpuAndNeuralEngine"));
        setGolden(m, v);
        publish(m, v);
        runAgents(m, Map.of("A17_PRO", "mx-ungated-a17"), (chip, precision, kind, cu) ->
                kind.equals("benchmark") ? new Failed("the compiler crashed") : new Measured(0.9999));

        JsonNode mx = matrix(m, v, "");
        assertThat(mx.path("gatesSet").asBoolean()).isFalse();
        // nothing was checked, and a run failed: not a green PASS
        assertThat(mx.path("verdict").path("status").asString()).as(mx.path("verdict").toString()).isEqualTo("NO_GATES");
        assertThat(mx.path("verdict").path("reasons")).extracting(JsonNode::asString).containsExactly(
                "no gates set, so nothing is checked (an alias may still point at this version): set them with"
                        + " PUT /api/v1/models/" + m + "/gates");
        JsonNode row = row(mx, "A17_PRO fp16");
        assertThat(row.path("gateStatus").asString()).isEqualTo("NO_GATES");
        Response csv = get("/api/v1/models/" + m + "/versions/" + v + "/matrix", reader(), "Accept", "text/csv");
        assertThat(csv.text().split("\r\n")[1].split(",", -1)[MatrixCsv.HEADER.indexOf("variant_gate")]).isEqualTo("NO_GATES");
        JsonNode failed = row.path("cells").path("cpuAndNeuralEngine");
        assertThat(failed.path("source").asString()).isEqualTo("failed");
        assertThat(failed.path("failure").asString()).isEqualTo("the compiler crashed");
        assertThat(failed.path("gate").isNull()).as("not gated").isTrue();

        Response promoted = moveAlias(m, "prod", v, "no gates");
        assertThat(promoted.status()).as(promoted.text()).isEqualTo(200);

        // An empty draft of an ungated model says so too, instead of PASS over nothing.
        int draft = createVersion(m);
        JsonNode empty = matrix(m, draft, "");
        assertThat(empty.path("rows")).isEmpty();
        assertThat(empty.path("verdict").path("status").asString()).isEqualTo("NO_GATES");
        assertThat(empty.path("verdict").path("reasons").toString()).contains("no variants yet");

        // Gates set, then cleared by an admin (PUT {} leaves a row that sets no limit): nothing is checked again.
        Response set = send("PUT", "/api/v1/models/" + m + "/gates", publisher(), Map.of("minCosine", 0.999));
        assertThat(set.status()).as(set.text()).isEqualTo(200);
        assertThat(matrix(m, v, "").path("verdict").path("status").asString()).isNotEqualTo("NO_GATES");
        Response cleared = send("PUT", "/api/v1/models/" + m + "/gates", ADMIN, Map.of());
        assertThat(cleared.status()).as(cleared.text()).isEqualTo(200);
        JsonNode after = matrix(m, v, "");
        assertThat(after.path("verdict").path("status").asString()).as("cleared gates check nothing").isEqualTo("NO_GATES");
        assertThat(row(after, "A17_PRO fp16").path("gateStatus").asString()).isEqualTo("NO_GATES");
    }

    @Test
    void theRooflineEstimateFillsOnlyTheSettingsThatUseTheNeuralEngine() {
        String m = "mx-estimate-units";
        createModel(m);
        int v = createVersion(m);
        variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.375f),
                List.of("cpuOnly", "cpuAndGPU", "cpuAndNeuralEngine", "all"));
        // left a draft: its cells must stay estimated and pending (a version published without golden data has its
        // jobs cancelled; one with golden data would have them leased by other tests' A17_PRO agents)

        JsonNode row = row(matrix(m, v, ""), "A17_PRO fp16");
        JsonNode estimate = row.path("estimate");
        assertThat(estimate.path("appliesTo")).extracting(JsonNode::asString).containsExactly("cpuAndNeuralEngine", "all");
        assertThat(estimate.path("basis").asString()).contains("Neural Engine peak")
                .contains("no estimate for cpuOnly or cpuAndGPU");
        for (String cu : List.of("cpuAndNeuralEngine", "all")) {
            JsonNode c = row.path("cells").path(cu);
            assertThat(c.path("source").asString()).as(cu).isEqualTo("estimated");
            assertThat(c.path("estimateLowMs").asDouble()).isEqualTo(estimate.path("lowMs").asDouble());
        }
        for (String cu : List.of("cpuOnly", "cpuAndGPU")) {
            JsonNode c = row.path("cells").path(cu);
            assertThat(c.path("source").asString()).as(cu).isEqualTo("pending");
            assertThat(c.path("estimateLowMs").isNull()).as(cu).isTrue();
        }
    }

    @Test
    void yankedVariantsAndVersionsAreCancelledNotPendingAndSayWhy() {
        String m = "mx-yanks";
        createModel(m);
        assertThat(putGates(m, GATES, publisher()).status()).isEqualTo(200);
        int v = createVersion(m);
        variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.625f), List.of("cpuAndNeuralEngine", "all"));
        long int8 = variant(m, v, "A17_PRO", "ane", "int8", 32, realPackage(32, 128, 0.875f), List.of("cpuAndNeuralEngine"))
                .json().path("id").asLong();
        setGolden(m, v);
        publish(m, v);
        // fp16 measured on the Neural Engine, its "all" run and everything of int8 still open
        runAgents(m, Map.of("A17_PRO", "mx-yanks-a17"), (chip, precision, kind, cu) -> {
            if (!precision.equals("fp16") || cu.equals("all") && kind.equals("benchmark")) return new Skip();
            return kind.equals("accuracy") ? new Measured(0.9999) : new Measured(2.0);
        });
        Response yank = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants/" + int8 + "/yank", publisher(),
                Map.of("reason", "bad quant <b>x</b>"));
        assertThat(yank.status()).as(yank.text()).isEqualTo(200);

        JsonNode mx = matrix(m, v, "");
        JsonNode yanked = row(mx, "A17_PRO int8-block32");
        assertThat(yanked.path("gateStatus").asString()).isEqualTo("YANKED");
        assertThat(yanked.path("gateReasons")).as("nothing is awaited from a yanked variant").isEmpty();
        assertThat(yanked.path("yankReason").asString()).isEqualTo("bad quant <b>x</b>");
        assertThat(yanked.path("fidelity").path("source").asString()).isEqualTo("cancelled");
        JsonNode cancelled = yanked.path("cells").path("cpuAndNeuralEngine");
        assertThat(cancelled.path("source").asString()).isEqualTo("cancelled");
        assertThat(cancelled.path("jobState").asString()).isEqualTo("cancelled");
        assertThat(cancelled.path("failure").asString()).contains("bad quant <b>x</b>");
        assertThat(cancelled.path("estimateLowMs").isNull()).isTrue();
        assertThat(mx.path("verdict").toString()).doesNotContain("int8");
        assertThat(mx.path("yankReason").isNull()).isTrue();

        Response yankVersion = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/yank", publisher(),
                Map.of("reason", "superseded by v2"));
        assertThat(yankVersion.status()).as(yankVersion.text()).isEqualTo(200);
        mx = matrix(m, v, "");
        assertThat(mx.path("versionStatus").asString()).isEqualTo("yanked");
        assertThat(mx.path("yankReason").asString()).isEqualTo("superseded by v2");
        assertThat(mx.path("verdict").path("status").asString()).as("never INCOMPLETE forever").isEqualTo("YANKED");
        assertThat(mx.path("verdict").path("reasons").get(0).asString()).contains("superseded by v2");
        assertThat(mx.path("verdict").path("pendingCells")).isEmpty();
        JsonNode fp16 = row(mx, "A17_PRO fp16");
        assertThat(fp16.path("gateStatus").asString()).isEqualTo("YANKED");
        assertThat(fp16.path("yankReason").asString()).isEqualTo("superseded by v2");
        assertThat(fp16.path("cells").path("cpuAndNeuralEngine").path("source").asString()).as("history stays").isEqualTo("measured");
        assertThat(fp16.path("fidelity").path("source").asString()).isEqualTo("measured");
        assertThat(fp16.path("cells").path("all").path("source").asString()).isEqualTo("cancelled");
        assertThat(fp16.path("cells").path("all").path("failure").asString()).contains("superseded by v2");
        assertThat(row(mx, "A17_PRO int8-block32").path("yankReason").asString()).as("its own reason").isEqualTo("bad quant <b>x</b>");
        for (JsonNode r : mx.path("rows")) {
            assertThat(r.path("fidelity").path("source").asString()).isNotEqualTo("pending");
            for (JsonNode c : r.path("cells")) assertThat(c.path("source").asString()).isIn("measured", "failed", "cancelled");
        }
    }

    @Test
    void csvTextThatASpreadsheetWouldRunIsQuotedAndNumbersStayNumbers() {
        assertThat(MatrixCsv.escape("-2+3+cmd|' /C calc'!A0")).isEqualTo("'-2+3+cmd|' /C calc'!A0");
        assertThat(MatrixCsv.escape("=1+1")).isEqualTo("'=1+1");
        assertThat(MatrixCsv.escape("+1")).isEqualTo("'+1");
        assertThat(MatrixCsv.escape("@SUM(A1)")).isEqualTo("'@SUM(A1)");
        assertThat(MatrixCsv.escape("\t=1+1")).isEqualTo("'\t=1+1");
        assertThat(MatrixCsv.escape("\r=1+1")).isEqualTo("\"'\r=1+1\"");
        assertThat(MatrixCsv.escape("\n=1+1")).isEqualTo("\"'\n=1+1\"");
        assertThat(MatrixCsv.escape("mac-a17, lab 2")).isEqualTo("\"mac-a17, lab 2\"");
        assertThat(MatrixCsv.escape("plain")).isEqualTo("plain");
    }

    /** v1 and v2 measured by an agent whose host name is a formula; v2 is faster and fails one run. */
    @Test
    void theCsvIsTheJsonFlattenedWithFormulasDefused() {
        String m = "mx-csv";
        String host = "-2+3+cmd|' /C calc'!A0";
        createModel(m);
        assertThat(putGates(m, GATES, publisher()).status()).isEqualTo(200);
        int[] v = new int[2];
        for (int i = 0; i < 2; i++) {
            v[i] = createVersion(m);
            variant(m, v[i], "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 1.25f + i), List.of("cpuOnly", "cpuAndNeuralEngine"));
            setGolden(m, v[i]);
            publish(m, v[i]);
            boolean second = i == 1;
            runAgents(m, Map.of("A17_PRO", host), (chip, precision, kind, cu) -> {
                if (kind.equals("accuracy")) return new Measured(second ? 0.9999 : 0.99995);
                if (cu.equals("cpuOnly")) return second ? new Failed("\t=1+1") : new Measured(9.0);
                return new Measured(second ? 1.5 : 2.0);
            });
        }
        JsonNode json = matrix(m, v[1], "?baseline=" + v[0]);
        Response csv = get("/api/v1/models/" + m + "/versions/" + v[1] + "/matrix?baseline=" + v[0], reader(), "Accept", "text/csv");
        assertThat(csv.status()).as(csv.text()).isEqualTo(200);
        List<List<String>> lines = parse(csv.text());
        assertThat(lines.get(0)).isEqualTo(MatrixCsv.HEADER);
        assertThat(lines).hasSize(3);
        Map<String, Map<String, String>> byUnits = new LinkedHashMap<>();
        for (List<String> l : lines.subList(1, lines.size())) {
            assertThat(l).hasSameSizeAs(MatrixCsv.HEADER);
            Map<String, String> f = new LinkedHashMap<>();
            for (int i = 0; i < l.size(); i++) f.put(MatrixCsv.HEADER.get(i), l.get(i));
            byUnits.put(f.get("compute_units"), f);
        }
        JsonNode row = row(json, "A17_PRO fp16");
        JsonNode cell = row.path("cells").path("cpuAndNeuralEngine");
        Map<String, String> ane = byUnits.get("cpuAndNeuralEngine");
        assertThat(ane.get("host")).isEqualTo("'" + host);
        assertThat(ane.get("p50_change")).as("a number, not text").isEqualTo("-0.25");
        assertThat(ane.get("cosine_change")).isEqualTo("-0.00005");
        assertThat(ane.get("cosine_regression")).isEqualTo("false");
        assertThat(ane.get("baseline_cosine")).isEqualTo("0.99995");
        assertThat(ane.get("baseline_row")).isEqualTo("false");
        assertThat(ane.get("digest")).isEqualTo(row.path("digest").asString());
        assertThat(ane.get("download_url")).isEqualTo(row.path("downloadUrl").asString());
        assertThat(ane.get("gate_reasons")).isEqualTo(String.join(MatrixCsv.LIST_SEPARATOR,
                row.path("gateReasons").valueStream().map(JsonNode::asString).toList()));
        assertThat(ane.get("gate_reasons")).contains("cpuOnly benchmark failed");
        assertThat(ane.get("os_name")).isEqualTo(cell.path("measuredOn").path("osName").asString()).isEqualTo("macOS");
        assertThat(ane.get("os_version")).isEqualTo("15.1");
        assertThat(ane.get("measured_chip")).isEqualTo("A17_PRO");
        assertThat(ane.get("warmup_iterations")).isEqualTo(cell.path("protocol").path("warmupIterations").asString()).isEqualTo("10");
        assertThat(ane.get("timed_iterations")).isEqualTo("100");
        assertThat(ane.get("max_duration_ms")).isEqualTo("300000");
        assertThat(ane.get("samples")).isEqualTo(cell.path("protocol").path("samples").asString());
        assertThat(ane.get("fidelity_host")).isEqualTo("'" + host);
        assertThat(ane.get("fidelity_job_id")).isEqualTo(row.path("fidelity").path("jobId").asString());
        assertThat(ane.get("estimate_basis")).isEqualTo(row.path("estimate").path("basis").asString());
        assertThat(ane.get("estimate_flops")).isEqualTo(row.path("estimate").path("flops").asString());
        assertThat(ane.get("version_status")).isEqualTo("published");
        assertThat(ane.get("baseline_version")).isEqualTo(String.valueOf(v[0]));
        assertThat(ane.get("variant_status")).isEqualTo("available");
        Map<String, String> cpu = byUnits.get("cpuOnly");
        assertThat(cpu.get("failure")).isEqualTo("'\t=1+1");
        assertThat(cpu.get("source")).isEqualTo("failed");
        // v2's cpuOnly run failed: nothing to compare with v1's 9.0 ms, which is "not compared", not "no regression"
        assertThat(ane.get("regression")).isEqualTo("false");
        assertThat(cpu.get("regression")).as("empty when not compared").isEmpty();
        assertThat(row.path("cells").path("cpuAndNeuralEngine").path("regression").asBoolean()).isFalse();
        assertThat(row.path("cells").path("cpuOnly").path("regression").isNull()).isTrue();
        assertThat(json.path("notCompared")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO fp16 seq128 iOS18.0 on cpuOnly: p50 not compared (no result in v" + v[1] + ")");
        // Without a baseline nothing is compared at all.
        JsonNode alone = matrix(m, v[1], "");
        assertThat(row(alone, "A17_PRO fp16").path("cells").path("cpuAndNeuralEngine").path("regression").isNull()).isTrue();
        assertThat(alone.path("notCompared")).isEmpty();
    }

    /** RFC 4180: quoted fields may hold commas, quotes and line breaks. */
    private static List<List<String>> parse(String csv) {
        List<List<String>> lines = new ArrayList<>();
        List<String> line = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < csv.length(); i++) {
            char c = csv.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < csv.length() && csv.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                line.add(field.toString());
                field.setLength(0);
            } else if (c == '\r' && i + 1 < csv.length() && csv.charAt(i + 1) == '\n') {
                line.add(field.toString());
                field.setLength(0);
                lines.add(line);
                line = new ArrayList<>();
                i++;
            } else {
                field.append(c);
            }
        }
        return lines;
    }
}
