package io.aneforge.registry.variant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.registry.MigrationUpgrade;
import io.aneforge.registry.RegistryTestBase;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Block-wise variants that differ only in symmetric vs affine quantization are two variants (V5): both
 * register, list and resolve distinctly; old clients (precision + blockSize) keep meaning symmetric; full
 * scheme ids are accepted; contradictions are 400 problems naming the fix.
 */
class VariantQuantizationTest extends RegistryTestBase {

    private Response register(String model, int version, Map<String, Object> fields, String salt) {
        Map<String, Object> body = new HashMap<>(Map.of("chip", "A17_PRO", "deploymentTarget", "18.0", "layout", "ane",
                "seqLen", 128, "digest", upload(mlpackage(model + version + salt))));
        body.putAll(fields);
        return send("POST", "/api/v1/models/" + model + "/versions/" + version + "/variants", publisher(), body);
    }

    private Response resolve(String model) {
        return get("/api/v1/models/" + model + "/resolve?chip=A17_PRO&os=18.0&alias=production", reader());
    }

    @Test
    void symmetricAndAffineVariantsRegisterAndResolveDistinctly() {
        String m = "quant-distinct";
        int v = createModelAndVersion(m);
        Response sym = register(m, v, Map.of("precision", "int8", "blockSize", 32), "sym"); // a pre-V5 client's request
        assertThat(sym.status()).as(sym.text()).isEqualTo(201);
        assertThat(sym.json().path("quantization").asString()).isEqualTo("symmetric");
        Response aff = register(m, v, Map.of("precision", "int8", "blockSize", 32, "quantization", "affine"), "aff");
        assertThat(aff.status()).as(aff.text()).isEqualTo(201);
        assertThat(aff.json().path("precision").asString()).isEqualTo("int8");
        assertThat(aff.json().path("blockSize").asInt()).isEqualTo(32);
        assertThat(aff.json().path("quantization").asString()).isEqualTo("affine");
        assertThat(aff.json().path("id").asLong()).isNotEqualTo(sym.json().path("id").asLong());

        // The same identity again is still a conflict, and the message names the full scheme.
        Response again = register(m, v, Map.of("precision", "int8-block32-affine"), "aff-again");
        assertExists(again, "int8-block32-affine");

        Response list = get("/api/v1/models/" + m + "/versions/" + v + "/variants", reader());
        assertThat(list.json().valueStream().map(n -> n.path("quantization").asString()).toList())
                .containsExactly("symmetric", "affine");

        // The matrix labels the two rows apart (gate reasons and baseline deltas key on the label).
        Response matrix = get("/api/v1/models/" + m + "/versions/" + v + "/matrix", reader());
        assertThat(matrix.status()).as(matrix.text()).isEqualTo(200);
        assertThat(matrix.json().path("rows").valueStream().map(r -> r.path("cell").asString() + " " + r.path("quantization").asString()).toList())
                .containsExactlyInAnyOrder("A17_PRO int8-block32 symmetric", "A17_PRO int8-block32-affine affine");

        publishWithoutGoldenData(m, v);
        moveProductionTo(m, v, "quantization test");
        JsonNode first = resolve(m).json();
        assertThat(first.path("variant").path("quantization").asString()).isEqualTo("affine"); // affine preferred
        assertThat(first.path("digest").asString()).isEqualTo(aff.json().path("digest").asString());

        Response yank = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants/" + aff.json().path("id").asLong()
                + "/yank", publisher(), Map.of("reason", "affine build withdrawn"));
        assertThat(yank.status()).as(yank.text()).isEqualTo(200);
        JsonNode second = resolve(m).json();
        assertThat(second.path("variant").path("quantization").asString()).isEqualTo("symmetric");
        assertThat(second.path("digest").asString()).isEqualTo(sym.json().path("digest").asString());
    }

    /** V7: clip-searched scales (-mse) are a mode of their own, beside the range-fit modes of the same block size. */
    @Test
    void mseVariantsAreDistinctVariantsAndResolveInMeasuredOrder() {
        String m = "quant-mse";
        int v = createModelAndVersion(m);
        Map<String, Response> byMode = new java.util.LinkedHashMap<>();
        byMode.put("symmetric", register(m, v, Map.of("precision", "int4-block32"), "s"));
        byMode.put("symmetric-mse", register(m, v, Map.of("precision", "int4-block32-mse"), "sm"));
        byMode.put("affine", register(m, v, Map.of("precision", "int4", "blockSize", 32, "quantization", "affine"), "a"));
        byMode.put("affine-mse", register(m, v, Map.of("precision", "int4", "blockSize", 32, "quantization", "affine-mse"), "am"));
        assertRegisteredAsInt4Block32(byMode);
        Response again = register(m, v, Map.of("precision", "int4-block32-affine-mse"), "am-again");
        assertExists(again, "int4-block32-affine-mse");

        assertThat(matrixCells(m, v))
                .containsExactly("A17_PRO int4-block32", "A17_PRO int4-block32-affine", "A17_PRO int4-block32-mse",
                        "A17_PRO int4-block32-affine-mse");

        publishWithoutGoldenData(m, v);
        moveProductionTo(m, v, "mse test");
        assertResolvesInOrderAsEachIsYanked(m, v, byMode, List.of("affine-mse", "affine", "symmetric-mse", "symmetric"));
    }

    /**
     * V8: int4 with the FFN inputs at int8 (-ffn8) is a variant of its own beside plain int4 of the same block size and
     * mode; resolve prefers it where its MiniLM fidelity puts it (Resolver.QUANTIZATION_ORDER).
     */
    @Test
    void ffn8VariantsAreDistinctVariantsAndResolveInMeasuredOrder() {
        String m = "quant-ffn8";
        int v = createModelAndVersion(m);
        Map<String, Response> byMode = new java.util.LinkedHashMap<>();
        byMode.put("symmetric", register(m, v, Map.of("precision", "int4-block32"), "s"));
        byMode.put("affine", register(m, v, Map.of("precision", "int4-block32-affine"), "a"));
        byMode.put("symmetric-mse", register(m, v, Map.of("precision", "int4-block32-mse"), "sm"));
        byMode.put("affine-mse", register(m, v, Map.of("precision", "int4-block32-affine-mse"), "am"));
        byMode.put("symmetric-ffn8", register(m, v, Map.of("precision", "int4-block32-ffn8"), "sf"));
        byMode.put("affine-ffn8", register(m, v, Map.of("precision", "int4", "blockSize", 32, "quantization", "affine-ffn8"), "af"));
        byMode.put("symmetric-mse-ffn8", register(m, v, Map.of("precision", "int4-block32-mse-ffn8"), "smf"));
        byMode.put("affine-mse-ffn8", register(m, v, Map.of("precision", "int4-block32-affine-mse-ffn8"), "amf"));
        assertRegisteredAsInt4Block32(byMode);
        Response again = register(m, v, Map.of("precision", "int4", "blockSize", 32, "quantization", "affine-mse-ffn8"), "amf-again");
        assertExists(again, "int4-block32-affine-mse-ffn8");

        assertThat(matrixCells(m, v))
                .containsExactly("A17_PRO int4-block32", "A17_PRO int4-block32-affine", "A17_PRO int4-block32-mse",
                        "A17_PRO int4-block32-affine-mse", "A17_PRO int4-block32-ffn8", "A17_PRO int4-block32-affine-ffn8",
                        "A17_PRO int4-block32-mse-ffn8", "A17_PRO int4-block32-affine-mse-ffn8");

        publishWithoutGoldenData(m, v);
        moveProductionTo(m, v, "ffn8 test");
        List<String> order = List.of("affine-mse-ffn8", "affine-ffn8", "symmetric-mse-ffn8", "affine-mse", "symmetric-ffn8",
                "affine", "symmetric-mse", "symmetric");
        assertResolvesInOrderAsEachIsYanked(m, v, byMode, order);
    }

    /**
     * V9: GPTQ-quantized variants (-gptq) are variants of their own beside the range fit and the clip search of the
     * same block size and mode; resolve prefers them where their MiniLM fidelity puts them.
     */
    @Test
    void gptqVariantsAreDistinctVariantsAndResolveInMeasuredOrder() {
        String m = "quant-gptq";
        int v = createModelAndVersion(m);
        Map<String, Response> byMode = new java.util.LinkedHashMap<>();
        byMode.put("symmetric", register(m, v, Map.of("precision", "int4-block32"), "s"));
        byMode.put("affine", register(m, v, Map.of("precision", "int4-block32-affine"), "a"));
        byMode.put("symmetric-gptq", register(m, v, Map.of("precision", "int4-block32-gptq"), "sg"));
        byMode.put("affine-gptq", register(m, v, Map.of("precision", "int4", "blockSize", 32, "quantization", "affine-gptq"), "ag"));
        byMode.put("affine-ffn8", register(m, v, Map.of("precision", "int4-block32-affine-ffn8"), "af"));
        byMode.put("affine-gptq-ffn8", register(m, v, Map.of("precision", "int4-block32-affine-gptq-ffn8"), "agf"));
        assertRegisteredAsInt4Block32(byMode);
        Response again = register(m, v, Map.of("precision", "int4", "blockSize", 32, "quantization", "affine-gptq"), "ag-again");
        assertExists(again, "int4-block32-affine-gptq");
        assertInvalid(register(m, v, Map.of("precision", "int8", "blockSize", 32, "quantization", "affine-gptq-ffn8"), "x"),
                "it does not apply to int8");

        publishWithoutGoldenData(m, v);
        moveProductionTo(m, v, "gptq test");
        assertResolvesInOrderAsEachIsYanked(m, v, byMode,
                List.of("affine-gptq-ffn8", "affine-gptq", "affine-ffn8", "symmetric-gptq", "affine", "symmetric"));
    }

    /**
     * V35: w8a8 with affine activations (w8a8-affine) is a variant of its own beside w8a8, stored as w8a8 with
     * quantization affine and no block size. Both spellings register it; the views, the matrix and resolve's filters
     * tell it apart; resolve prefers it to w8a8 (closer to the original on MiniLM) and int8 to both (precision order);
     * a package built as one mode cannot be declared as the other; a quantization w8a8 has not is refused.
     */
    @Test
    void w8a8AffineIsAVariantOfItsOwnBesideW8a8() {
        String m = "quant-w8a8";
        int v = createModelAndVersion(m);
        Response sym = register(m, v, Map.of("precision", "w8a8", "deploymentTarget", "17.0"), "s");
        assertThat(sym.status()).as(sym.text()).isEqualTo(201);
        assertThat(sym.json().path("quantization").isNull()).isTrue();
        Response aff = register(m, v, Map.of("precision", "w8a8-affine", "deploymentTarget", "17.0"), "a");
        assertThat(aff.status()).as(aff.text()).isEqualTo(201);
        assertThat(List.of(aff.json().path("precision").asString(), String.valueOf(aff.json().path("blockSize").isNull()),
                aff.json().path("quantization").asString())).containsExactly("w8a8", "true", "affine");
        Response int8 = register(m, v, Map.of("precision", "int8-channel", "deploymentTarget", "17.0"), "c");
        assertThat(int8.status()).as(int8.text()).isEqualTo(201);
        // the coarse name with quantization affine is the same variant
        Response again = register(m, v, Map.of("precision", "w8a8", "quantization", "affine", "deploymentTarget", "17.0"), "a2");
        assertExists(again, "A17_PRO 17.0 ane w8a8-affine seq 128");

        // The converter's build id in the package holds the mode: declared as the other mode, it is refused.
        String built = upload(mlpackage(io.aneforge.mil.Target.IOS17, 128, Map.of("aneforge.build", "ios17-ane-w8a8-affine-s128")));
        Map<String, Object> onM4 = new HashMap<>(Map.of("chip", "M4", "deploymentTarget", "17.0", "layout", "ane",
                "precision", "w8a8", "seqLen", 128, "digest", built));
        Response contradicted = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants", publisher(), onM4);
        assertThat(contradicted.status()).as(contradicted.text()).isEqualTo(422);
        assertThat(contradicted.problem()).isEqualTo("variant-contradicts-package");
        assertThat(contradicted.json().path("detail").asString())
                .contains("precision w8a8 contradicts the package, converted at w8a8-affine").contains("declare precision w8a8-affine");
        onM4.put("quantization", "affine");
        Response m4 = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants", publisher(), onM4);
        assertThat(m4.status()).as(m4.text()).isEqualTo(201);

        assertInvalid(register(m, v, Map.of("precision", "w8a8", "quantization", "symmetric", "deploymentTarget", "17.0"), "x"),
                "quantization 'symmetric' does not apply to w8a8: give affine (int8 activations with zero points, the same as"
                        + " precision w8a8-affine) or omit it (symmetric activations)");
        assertInvalid(register(m, v, Map.of("precision", "w8a8-affine", "quantization", "affine-mse", "deploymentTarget", "17.0"), "y"),
                "quantization 'affine-mse' contradicts precision 'w8a8-affine' (affine); omit quantization");
        assertInvalid(register(m, v, Map.of("precision", "w8a8", "blockSize", 32, "quantization", "affine",
                        "deploymentTarget", "17.0"), "z"),
                "blockSize 32 is only meaningful (and must be positive) for block-wise [int8, int4] precision; omit it for w8a8");
        assertInvalid(register(m, v, Map.of("precision", "w8a8-affine", "deploymentTarget", "16.0"), "t"),
                "deploymentTarget 16.0 is older than precision w8a8-affine runs on");

        JsonNode list = get("/api/v1/models/" + m + "/versions/" + v + "/variants", reader()).json();
        assertThat(list.valueStream().map(n -> n.path("chip").asString() + " " + n.path("precision").asString() + " "
                + (n.path("quantization").isNull() ? "-" : n.path("quantization").asString())).toList())
                .containsExactly("A17_PRO w8a8 -", "A17_PRO w8a8 affine", "A17_PRO int8 -", "M4 w8a8 affine");
        assertThat(matrixCells(m, v))
                .containsExactly("A17_PRO int8", "A17_PRO w8a8", "A17_PRO w8a8-affine", "M4 w8a8-affine");
        Response csv = get("/api/v1/models/" + m + "/versions/" + v + "/matrix", reader(), "Accept", "text/csv");
        assertThat(csv.status()).as(csv.text()).isEqualTo(200);
        assertThat(csv.text()).contains(",w8a8,,affine,");

        publishWithoutGoldenData(m, v);
        moveProductionTo(m, v, "w8a8 test");
        Map<String, Response> byPrecision = new java.util.LinkedHashMap<>();
        byPrecision.put("int8", int8);
        byPrecision.put("affine", aff);
        byPrecision.put("", sym);
        // the family filter keeps both modes, the full id exactly one
        JsonNode family = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0&alias=production&precision=w8a8", reader()).json();
        assertThat(family.path("digest").asString()).isEqualTo(aff.json().path("digest").asString());
        JsonNode exact = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0&alias=production&precision=W8A8-Affine", reader()).json();
        assertThat(exact.path("variant").path("quantization").asString()).isEqualTo("affine");
        // symmetric w8a8 alone has a name of its own (w8a8 stays the family)
        JsonNode symmetric = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0&alias=production&precision=w8a8-symmetric",
                reader()).json();
        assertThat(symmetric.path("digest").asString()).isEqualTo(sym.json().path("digest").asString());
        Response misspelt = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0&alias=production&precision=w8a8-sym", reader());
        assertThat(misspelt.status()).as(misspelt.text()).isEqualTo(400);
        assertThat(misspelt.json().path("detail").asString()).startsWith("precision 'w8a8-sym' is not a precision: use")
                .contains("w8a8-symmetric (w8a8 with symmetric activations only)");
        for (var e : byPrecision.entrySet()) {
            JsonNode r = resolve(m).json();
            assertThat(r.path("digest").asString()).as(e.getKey()).isEqualTo(e.getValue().json().path("digest").asString());
            if (e.getKey().isEmpty()) break; // symmetric w8a8: the last on A17_PRO
            Response yank = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants/"
                    + e.getValue().json().path("id").asLong() + "/yank", publisher(), Map.of("reason", "next"));
            assertThat(yank.status()).as(yank.text()).isEqualTo(200);
        }
        Response none = get("/api/v1/models/" + m + "/resolve?chip=A17_PRO&os=18.0&alias=production&precision=w8a8-affine", reader());
        assertThat(none.status()).as(none.text()).isEqualTo(404);
        assertThat(none.problem()).isEqualTo("no-variant-matches-filter");
        // listed by the name that asks for exactly it
        assertThat(none.json().path("precisions").toString()).isEqualTo("[\"w8a8-symmetric\"]");
    }

    /** V35 on a database with V30 rows: w8a8 rows keep meaning symmetric; only w8a8 takes affine without a block size. */
    @Test
    void v35AcceptsAffineW8a8RowsOnly() throws Exception {
        MigrationUpgrade.from("30", st -> {
            seedDraftVersionAndBlob(st);
            st.execute(unblockedRow("'w8a8'", "NULL"));
            st.execute(variantRow("'int8'", "'affine'", 128));
            assertThatThrownBy(() -> st.execute(unblockedRow("'w8a8'", "'affine'")))
                    .hasMessageContaining("variant_quantization_blockwise"); // not before V35
        }, st -> {
            st.execute(unblockedRow("'w8a8'", "'affine'")); // same facts as the w8a8 row but the mode: a distinct variant
            assertThatThrownBy(() -> st.execute(unblockedRow("'w8a8'", "'affine'"))).hasMessageContaining("variant_identity");
            for (String[] refused : new String[][] {{"'w8a8'", "'symmetric'"}, {"'w8a8'", "'affine-mse'"},
                    {"'fp16'", "'affine'"}, {"'int8'", "'affine'"}}) {
                assertThatThrownBy(() -> st.execute(unblockedRow(refused[0], refused[1])))
                        .as(String.join(" ", refused)).hasMessageContaining("variant_quantization_blockwise");
            }
            assertThat(MigrationUpgrade.rows(st, "SELECT precision, block_size, quantization FROM variant ORDER BY id"))
                    .containsExactly("w8a8/null/null", "int8/32/affine", "w8a8/null/affine");
        });
    }

    /** A variant row without a block size, at iOS 17 (w8a8's minimum). */
    private static String unblockedRow(String precision, String quantization) {
        return "INSERT INTO variant (version_id, chip, deployment_target, layout, precision, block_size, quantization, seq_len,"
                + " blob_digest, size, status, created_by) SELECT id, 'A17_PRO', '17.0', 'ane', " + precision + ", NULL, "
                + quantization + ", 128, '" + "a".repeat(64) + "', 1, 'available', 'test' FROM model_version";
    }

    /** Refused with 409 {@code variant-exists}, naming the variant's full {@code scheme}. */
    private static void assertExists(Response again, String scheme) {
        assertThat(again.status()).as(again.text()).isEqualTo(409);
        assertThat(again.problem()).isEqualTo("variant-exists");
        assertThat(again.json().path("detail").asString()).contains(scheme);
    }

    /** The cells of the version's matrix rows, in order. */
    private List<String> matrixCells(String m, int v) {
        Response matrix = get("/api/v1/models/" + m + "/versions/" + v + "/matrix", reader());
        assertThat(matrix.status()).as(matrix.text()).isEqualTo(200);
        return matrix.json().path("rows").valueStream().map(r -> r.path("cell").asString()).toList();
    }

    private static void assertRegisteredAsInt4Block32(Map<String, Response> byMode) {
        byMode.forEach((mode, r) -> {
            assertThat(r.status()).as(mode + ": " + r.text()).isEqualTo(201);
            assertThat(r.json().path("precision").asString()).isEqualTo("int4");
            assertThat(r.json().path("blockSize").asInt()).isEqualTo(32);
            assertThat(r.json().path("quantization").asString()).isEqualTo(mode);
        });
    }

    /** Resolve returns each mode of {@code order} in turn: the test yanks each after checking it (the last stays). */
    private void assertResolvesInOrderAsEachIsYanked(String m, int v, Map<String, Response> byMode, List<String> order) {
        for (int i = 0; i < order.size(); i++) {
            String expected = order.get(i);
            JsonNode r = resolve(m).json();
            assertThat(r.path("variant").path("quantization").asString()).isEqualTo(expected);
            assertThat(r.path("digest").asString()).isEqualTo(byMode.get(expected).json().path("digest").asString());
            if (i < order.size() - 1) {
                Response yank = send("POST", "/api/v1/models/" + m + "/versions/" + v + "/variants/"
                        + byMode.get(expected).json().path("id").asLong() + "/yank", publisher(), Map.of("reason", "next mode"));
                assertThat(yank.status()).as(yank.text()).isEqualTo(200);
            }
        }
    }

    /** V8 on a database with V7 rows: they keep their modes; the -ffn8 modes pass the check for int4 rows only. */
    @Test
    void v8AcceptsTheFfn8ModesForInt4Only() throws Exception {
        MigrationUpgrade.from("7", st -> {
            seedDraftVersionAndBlob(st);
            st.execute(variantRow("'affine-mse'", 128));
            st.execute(variantRow("'int8'", "'affine'", 128));
            assertThatThrownBy(() -> st.execute(variantRow("'affine-ffn8'", 256)))
                    .hasMessageContaining("variant_quantization_check"); // not before V8
        }, st -> {
            st.execute(variantRow("'affine-mse-ffn8'", 128)); // same facts as the affine-mse row but the FFN override
            st.execute(variantRow("'symmetric-ffn8'", 128));
            assertThatThrownBy(() -> st.execute(variantRow("'ffn8'", 128))).hasMessageContaining("variant_quantization_check");
            assertThatThrownBy(() -> st.execute(variantRow("'affine-ffn8-mse'", 128))).hasMessageContaining("variant_quantization_check");
            assertThatThrownBy(() -> st.execute(variantRow("'int8'", "'affine-ffn8'", 128)))
                    .hasMessageContaining("variant_quantization_ffn8_int4");
            assertThatThrownBy(() -> st.execute(variantRow("'affine-mse-ffn8'", 128))).hasMessageContaining("variant_identity");
            assertThat(MigrationUpgrade.rows(st, "SELECT precision, quantization FROM variant ORDER BY id"))
                    .containsExactly("int4/affine-mse", "int8/affine", "int4/affine-mse-ffn8", "int4/symmetric-ffn8");
        });
    }

    /** V7 on a database with V6 rows: they keep their modes; the -mse modes pass the check, other values still fail. */
    @Test
    void v7AcceptsTheMseModesAndStillRejectsOthers() throws Exception {
        MigrationUpgrade.from("6", st -> {
            seedDraftVersionAndBlob(st);
            st.execute(variantRow("'affine'", 128));
            assertThatThrownBy(() -> st.execute(variantRow("'affine-mse'", 256)))
                    .hasMessageContaining("variant_quantization_check"); // not before V7
        }, st -> {
            st.execute(variantRow("'affine-mse'", 128)); // same facts as the affine row but the mode: a distinct variant
            st.execute(variantRow("'symmetric-mse'", 128));
            assertThatThrownBy(() -> st.execute(variantRow("'mse'", 128))).hasMessageContaining("variant_quantization_check");
            assertThatThrownBy(() -> st.execute(variantRow("'affine-mse'", 128))).hasMessageContaining("variant_identity");
            assertThat(MigrationUpgrade.rows(st, "SELECT quantization FROM variant ORDER BY id"))
                    .containsExactly("affine", "affine-mse", "symmetric-mse");
        });
    }

    private static String variantRow(String quantization, int seqLen) {
        return variantRow("'int4'", quantization, seqLen);
    }

    private static String variantRow(String precision, String quantization, int seqLen) {
        return "INSERT INTO variant (version_id, chip, deployment_target, layout, precision, block_size, quantization, seq_len,"
                + " blob_digest, size, status, created_by) SELECT id, 'A17_PRO', '18.0', 'ane', " + precision + ", 32, " + quantization
                + ", " + seqLen + ", '" + "a".repeat(64) + "', 1, 'available', 'test' FROM model_version";
    }

    @Test
    void fullSchemeIdsAreSplitIntoTheStoredFields() {
        String m = "quant-scheme";
        int v = createModelAndVersion(m);
        JsonNode int4 = register(m, v, Map.of("precision", "int4-block64-affine"), "int4").json();
        assertThat(List.of(int4.path("precision").asString(), int4.path("blockSize").asString(), int4.path("quantization").asString()))
                .containsExactly("int4", "64", "affine");
        JsonNode channel = register(m, v, Map.of("precision", "int8-channel"), "channel").json();
        assertThat(channel.path("precision").asString()).isEqualTo("int8");
        assertThat(channel.path("blockSize").isNull()).isTrue();
        assertThat(channel.path("quantization").isNull()).isTrue();
        JsonNode fp16 = register(m, v, Map.of("precision", "fp16"), "fp16").json();
        assertThat(fp16.path("quantization").isNull()).isTrue();
    }

    @Test
    void badPrecisionFieldsAreProblemsThatNameTheFix() {
        String m = "quant-invalid";
        int v = createModelAndVersion(m);
        assertInvalid(register(m, v, Map.of("precision", "int8", "blockSize", 32, "quantization", "asymmetric"), "a"),
                "quantization 'asymmetric' must be one of [symmetric, affine, symmetric-mse, affine-mse, symmetric-ffn8,"
                        + " affine-ffn8, symmetric-mse-ffn8, affine-mse-ffn8, symmetric-gptq, affine-gptq, symmetric-gptq-ffn8,"
                        + " affine-gptq-ffn8] (omitted means symmetric)");
        assertInvalid(register(m, v, Map.of("precision", "int8", "blockSize", 32, "quantization", "affine-ffn8"), "l"),
                "quantization 'affine-ffn8' keeps the FFN inputs of an int4 variant at int8; it does not apply to int8 (use affine)");
        assertInvalid(register(m, v, Map.of("precision", "int8-block32-affine-ffn8"), "m"),
                "an int8 variant has them at int8 already");
        assertInvalid(register(m, v, Map.of("precision", "int4-block32-affine-ffn8", "quantization", "affine"), "n"),
                "quantization 'affine' contradicts precision 'int4-block32-affine-ffn8' (affine-ffn8); omit quantization");
        assertInvalid(register(m, v, Map.of("precision", "int4-block32-mse", "quantization", "symmetric"), "j"),
                "quantization 'symmetric' contradicts precision 'int4-block32-mse' (symmetric-mse); omit quantization");
        assertInvalid(register(m, v, Map.of("precision", "fp16-mse"), "k"), "precision 'fp16-mse' must be one of");
        assertInvalid(register(m, v, Map.of("precision", "fp16", "quantization", "affine"), "b"),
                "quantization 'affine' applies to block-wise [int8, int4] precision (give blockSize) and to w8a8 (affine"
                        + " activations) only; omit it for fp16");
        assertInvalid(register(m, v, Map.of("precision", "int8", "quantization", "affine"), "c"),
                "quantization 'affine' applies to block-wise");
        assertInvalid(register(m, v, Map.of("precision", "int8-block32-affine", "blockSize", 64), "d"),
                "blockSize 64 contradicts precision 'int8-block32-affine' (block size 32); omit blockSize");
        assertInvalid(register(m, v, Map.of("precision", "int8-block32-affine", "quantization", "symmetric"), "e"),
                "quantization 'symmetric' contradicts precision 'int8-block32-affine' (affine); omit quantization");
        assertInvalid(register(m, v, Map.of("precision", "int8-block16"), "f"),
                "block size must be 32, 64 or 128, got 16");
        assertInvalid(register(m, v, Map.of("precision", "int3"), "g"),
                "precision 'int3' must be one of [fp16, int8, w8a8, int4, fp32]");
        assertInvalid(register(m, v, Map.of("precision", "fp16", "blockSize", 32), "h"),
                "blockSize 32 is only meaningful");
        Response none = register(m, v, Map.of(), "i");
        assertInvalid(none, "precision is required");
        // coarse fields that no converter writes: refused before they are stored (a stored one broke the matrix and
        // the gates of its version for good)
        assertInvalid(register(m, v, Map.of("precision", "int4", "blockSize", 33), "o"),
                "precision int4 with blockSize 33 and quantization 'symmetric' is not a scheme the converter writes:"
                        + " block size must be 32, 64 or 128, got 33");
        assertInvalid(register(m, v, Map.of("precision", "int8", "blockSize", Integer.MAX_VALUE), "p"),
                "block size must be 32, 64 or 128, got 2147483647");
        assertInvalid(register(m, v, Map.of("precision", "int4"), "q"), "precision int4 is block-wise only: give blockSize");
        Response variants = get("/api/v1/models/" + m + "/versions/" + v + "/variants", reader());
        assertThat(variants.status()).isEqualTo(200);
        assertThat(variants.json().size()).as(variants.text()).isZero();
        assertThat(get("/api/v1/models/" + m + "/versions/" + v + "/matrix", reader()).status()).isEqualTo(200);
    }

    private static void assertInvalid(Response r, String detail) {
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        assertThat(r.problem()).isEqualTo("invalid-variant");
        assertThat(r.json().path("detail").asString()).contains(detail);
    }

    /** V5 on a database that already has V4 rows: block-wise rows become symmetric, others stay without a mode. */
    @Test
    void migrationMarksExistingBlockwiseRowsSymmetric() throws Exception {
        MigrationUpgrade.from("4", st -> {
            seedDraftVersionAndBlob(st);
            for (String fields : List.of("'int8', 32", "'int8', NULL", "'fp16', NULL")) {
                st.execute("INSERT INTO variant (version_id, chip, deployment_target, layout, precision, block_size, seq_len,"
                        + " blob_digest, size, status, created_by) SELECT id, 'A17_PRO', '18.0', 'ane', " + fields
                        + ", 128, '" + "a".repeat(64) + "', 1, 'available', 'test' FROM model_version");
            }
        }, st -> assertThat(MigrationUpgrade.rows(st, "SELECT precision, block_size, quantization FROM variant ORDER BY id"))
                .containsExactly("int8/32/symmetric", "int8/null/null", "fp16/null/null"));
    }

    /** One model with a draft version and one blob, what a variant row refers to. */
    private static void seedDraftVersionAndBlob(Statement st) throws java.sql.SQLException {
        st.execute("INSERT INTO model (name, task, owner) VALUES ('m', 't', 'o')");
        st.execute("INSERT INTO model_version (model_id, version, status, source_type, created_by)"
                + " SELECT id, 1, 'draft', 'upload', 'test' FROM model");
        st.execute("INSERT INTO blob (digest, size, media_type, storage_key, created_by)"
                + " VALUES ('" + "a".repeat(64) + "', 1, 'application/zip', 'k', 'test')");
    }
}
