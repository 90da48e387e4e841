package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * {@code minCosineByPrecision}: W8A8 gated honestly. Under {@code minCosine} 0.99 a w8a8-affine variant at MiniLM's
 * measured 0.9564 fails and its promotion is refused; its own limit (set by an admin, since it relaxes that variant's
 * limit) lets it through while fp16 stays at 0.99. Stored, returned, kept in the history, validated.
 */
class PerPrecisionGatesTest extends MatrixTestSupport {

    /** The worst-token cosine of all-MiniLM-L6-v2 at w8a8-affine against the FP32 graph (32 samples, eval). */
    private static final double W8A8_AFFINE_COSINE = 0.9564;

    @Test
    void aW8a8AffineLimitOfItsOwnGatesItsRowsWhileFp16KeepsMinCosine() {
        String m = "gates-per-precision";
        createModel(m);
        assertThat(putGates(m, "{\"minCosine\":0.99}", publisher()).status()).isEqualTo(200);
        int v = createVersion(m);
        variant(m, v, "A17_PRO", "ane", "fp16", null, realPackage(32, 128, 0.3125f), List.of("cpuAndNeuralEngine"));
        variant(m, v, "A17_PRO", "ane", "w8a8-affine", null, realPackage(32, 128, 0.4375f), List.of("cpuAndNeuralEngine"));
        setGolden(m, v);
        publish(m, v);
        // the plan sees the registry's coarse precision: fp16 or w8a8 (the only w8a8 row here is the affine one)
        runAgents(m, Map.of("A17_PRO", "gates-pp-a17"), (chip, precision, kind, cu) -> kind.equals("benchmark")
                ? new Measured(2.0) : new Measured(precision.equals("fp16") ? 0.9999 : W8A8_AFFINE_COSINE));

        JsonNode before = matrix(m, v, "");
        assertThat(before.path("verdict").path("status").asString()).as(before.path("verdict").toString()).isEqualTo("FAIL");
        assertThat(before.path("verdict").path("failingCells")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO w8a8-affine");
        assertThat(before.path("verdict").path("reasons")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO w8a8-affine: cosine 0.9564 < 0.99");
        assertThat(row(before, "A17_PRO w8a8-affine").path("minCosine").asDouble()).isEqualTo(0.99);
        Response refused = moveAlias(m, "production", v, "w8a8 under minCosine");
        assertThat(refused.status()).as(refused.text()).isEqualTo(409);
        assertThat(refused.problem()).isEqualTo("gates-not-met");

        // Its own limit relaxes that variant's: a publisher may not, an admin may.
        String perPrecision = "{\"minCosine\":0.99,\"minCosineByPrecision\":{\"w8a8-affine\":0.95}}";
        Response byPublisher = putGates(m, perPrecision, publisher());
        assertThat(byPublisher.status()).as(byPublisher.text()).isEqualTo(403);
        assertThat(byPublisher.problem()).isEqualTo("gates-loosening-needs-admin");
        assertThat(byPublisher.json().path("loosened")).extracting(JsonNode::asString)
                .containsExactly("minCosineByPrecision.w8a8-affine 0.99 -> 0.95");
        Response byAdmin = putGates(m, perPrecision, ADMIN);
        assertThat(byAdmin.status()).as(byAdmin.text()).isEqualTo(200);

        JsonNode gates = get("/api/v1/models/" + m + "/gates", reader()).json().path("gates");
        assertThat(gates.path("minCosine").asDouble()).isEqualTo(0.99);
        assertThat(gates.path("minCosineByPrecision").toString()).isEqualTo("{\"w8a8-affine\":0.95}");

        JsonNode after = matrix(m, v, "");
        assertThat(after.path("verdict").path("status").asString()).as(after.path("verdict").toString()).isEqualTo("PASS");
        assertThat(after.path("gates").path("minCosineByPrecision").path("w8a8-affine").asDouble()).isEqualTo(0.95);
        assertThat(row(after, "A17_PRO w8a8-affine").path("gateStatus").asString()).isEqualTo("PASS");
        assertThat(row(after, "A17_PRO w8a8-affine").path("minCosine").asDouble()).isEqualTo(0.95);
        assertThat(row(after, "A17_PRO fp16").path("minCosine").asDouble()).isEqualTo(0.99);
        Response csv = get("/api/v1/models/" + m + "/versions/" + v + "/matrix", reader(), "Accept", "text/csv");
        List<String> lines = csv.text().lines().toList();
        int column = MatrixCsv.HEADER.indexOf("min_cosine");
        // Appended after the earlier columns; fidelity_held_positions_only (golden format 3) was appended after it.
        assertThat(column).as("second to last").isEqualTo(MatrixCsv.HEADER.size() - 2);
        assertThat(MatrixCsv.HEADER.get(MatrixCsv.HEADER.size() - 1)).isEqualTo("fidelity_held_positions_only");
        assertThat(lines.subList(1, lines.size()).stream().map(l -> {
            String beforeLast = l.substring(0, l.lastIndexOf(','));
            return beforeLast.substring(beforeLast.lastIndexOf(',') + 1);
        }).toList()).containsExactlyInAnyOrder("0.99", "0.95");
        Response promoted = moveAlias(m, "production", v, "w8a8 at its own limit");
        assertThat(promoted.status()).as(promoted.text()).isEqualTo(200);

        // A publisher may tighten it; above the measured cosine the row fails again, naming the entry.
        assertThat(putGates(m, "{\"minCosine\":0.99,\"minCosineByPrecision\":{\"w8a8-affine\":0.96}}", publisher()).status())
                .isEqualTo(200);
        JsonNode tightened = matrix(m, v, "");
        assertThat(tightened.path("verdict").path("reasons")).extracting(JsonNode::asString)
                .containsExactly("A17_PRO w8a8-affine: cosine 0.9564 < 0.96 (minCosineByPrecision.w8a8-affine)");

        JsonNode history = get("/api/v1/models/" + m + "/gates/history", reader()).json();
        assertThat(history).as(history.toString()).hasSize(3);
        // compared as text: isEmpty() would also pass on a missing field
        assertThat(history.get(1).path("before").path("minCosineByPrecision").toString()).isEqualTo("{}");
        assertThat(history.get(1).path("after").path("minCosineByPrecision").path("w8a8-affine").asDouble()).isEqualTo(0.95);
        assertThat(history.get(1).path("loosened")).extracting(JsonNode::asString)
                .containsExactly("minCosineByPrecision.w8a8-affine 0.99 -> 0.95");
        assertThat(history.get(2).path("after").path("minCosineByPrecision").path("w8a8-affine").asDouble()).isEqualTo(0.96);
        assertThat(history.get(2).path("loosened").toString()).isEqualTo("[]");
    }

    @Test
    void badPerPrecisionLimitsAreRefusedNamingTheKeyAndTheFix() {
        String m = "gates-per-precision-bad";
        createModel(m);
        Response unknown = putGates(m, "{\"minCosineByPrecision\":{\"w8a16\":0.9}}", publisher());
        assertThat(unknown.status()).as(unknown.text()).isEqualTo(400);
        assertThat(unknown.problem()).isEqualTo("invalid-gates");
        assertThat(unknown.json().path("detail").asString())
                .startsWith("gates.minCosineByPrecision: key 'w8a16' is not a precision: use a family [fp16, int8, w8a8, int4, fp32]")
                .contains("w8a8-affine").contains("w8a8-symmetric");
        Response outOfRange = putGates(m, "{\"minCosineByPrecision\":{\"int4\":1.2}}", publisher());
        assertThat(outOfRange.status()).isEqualTo(400);
        assertThat(outOfRange.json().path("detail").asString())
                .startsWith("gates.minCosineByPrecision.int4 must be in (0, 1], got 1.2");
        Response spelling = putGates(m, "{\"minCosineByPrecision\":{\"INT4\":0.98}}", publisher());
        assertThat(spelling.status()).isEqualTo(400);
        assertThat(spelling.json().path("detail").asString()).isEqualTo("gates.minCosineByPrecision: write key 'INT4' as 'int4'");
        Response notAMap = putGates(m, "{\"minCosineByPrecision\":0.95}", publisher());
        assertThat(notAMap.status()).isEqualTo(400);
        assertThat(notAMap.json().path("detail").asString()).contains("minCosineByPrecision (precision -> cosine)");
        // nothing was stored
        assertThat(get("/api/v1/models/" + m + "/gates", reader()).json().path("set").asBoolean()).isFalse();
    }
}
