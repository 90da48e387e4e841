package io.aneforge.registry.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** {@code precision=} and {@code layout=}: the resolve rule over the matching variants only (README, "Resolve rule"). */
class ResolveFilterTest extends RegistryTestBase {

    private static final String M = "resolve-filter";
    private static boolean seeded;

    /** Like the default recipe plus a per-channel int8 for 17.0: unfiltered, an iOS 18 device gets int8-block32. */
    @BeforeEach
    void seed() {
        if (seeded) return;
        inProduction(M, "filter tests", "A17_PRO 16.0 ane fp16", "A17_PRO 16.0 standard fp16",
                "A17_PRO 17.0 ane int8-channel", "A17_PRO 18.0 ane int8-block32");
        seeded = true;
    }

    private Response resolve(String query) {
        return get("/api/v1/models/" + M + "/resolve?" + query, reader());
    }

    private JsonNode variant(String query) {
        Response r = resolve(query);
        assertThat(r.status()).as(query + ": " + r.text()).isEqualTo(200);
        return r.json().path("variant");
    }

    private static String describe(JsonNode v) {
        return v.path("deploymentTarget").asString() + " " + v.path("layout").asString() + " " + v.path("precision").asString()
                + (v.path("blockSize").isNull() || v.path("blockSize").isMissingNode() ? "" : "-block" + v.path("blockSize").asInt());
    }

    @Test
    void withoutAFilterTheNewestTargetWins() {
        assertThat(describe(variant("device=iPhone16,1&os=18.2"))).isEqualTo("18.0 ane int8-block32");
    }

    @Test
    void precisionFp16GetsFp16OnADeviceWhoseOsAllowsANewerQuantizedVariant() {
        assertThat(describe(variant("device=iPhone16,1&os=18.2&precision=fp16"))).isEqualTo("16.0 ane fp16");
        assertThat(describe(variant("device=iPhone16,1&os=18.2&precision=fp16&layout=standard"))).isEqualTo("16.0 standard fp16");
        assertThat(describe(variant("device=iPhone16,1&os=18.2&layout=standard"))).isEqualTo("16.0 standard fp16");
    }

    @Test
    void aFamilyMatchesEveryVariantOfItAndAFullIdExactlyOne() {
        assertThat(describe(variant("chip=A17_PRO&os=18.2&precision=int8"))).isEqualTo("18.0 ane int8-block32");
        assertThat(describe(variant("chip=A17_PRO&os=17.5&precision=int8"))).isEqualTo("17.0 ane int8");
        assertThat(describe(variant("chip=A17_PRO&os=18.2&precision=int8-channel"))).isEqualTo("17.0 ane int8");
        assertThat(describe(variant("chip=A17_PRO&os=18.2&precision=INT8-Block32&layout=ANE"))).isEqualTo("18.0 ane int8-block32");
    }

    @Test
    void theFilterKeepsTheChipFallback() {
        Response r = resolve("device=iPhone17,3&os=18.1&precision=fp16"); // A18: no A18 variants
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("variant").path("chip").asString()).isEqualTo("A17_PRO");
        assertThat(r.json().path("variant").path("precision").asString()).isEqualTo("fp16");
        assertThat(r.json().path("fallback").asBoolean()).isTrue();
    }

    @Test
    void aFilterThatLeavesNothingSaysWhatTheDeviceCanHave() {
        Response r = resolve("device=iPhone16,1&os=18.2&precision=int4");
        assertThat(r.status()).as(r.text()).isEqualTo(404);
        assertThat(r.problem()).isEqualTo("no-variant-matches-filter");
        assertThat(r.json().path("precisions").toString()).isEqualTo("[\"fp16\",\"int8-block32\",\"int8-channel\"]");
        assertThat(r.json().path("layouts").toString()).isEqualTo("[\"ane\",\"standard\"]");
        assertThat(r.json().path("chip").asString()).isEqualTo("A17_PRO");
        assertThat(r.json().path("detail").asString()).isEqualTo("version 1 of 'resolve-filter' has no variant with"
                + " precision=int4 usable on A17_PRO at OS 18.2 (iOS numbering); the variants usable there have precisions"
                + " [fp16, int8-block32, int8-channel] and layouts [ane, standard]; ask for one of those or drop the filter");

        // Present but for a newer OS: only what this OS can run is offered.
        Response older = resolve("chip=A17_PRO&os=17.0&precision=int8-block32&layout=ane");
        assertThat(older.status()).as(older.text()).isEqualTo(404);
        assertThat(older.problem()).isEqualTo("no-variant-matches-filter");
        assertThat(older.json().path("precisions").toString()).isEqualTo("[\"fp16\",\"int8-channel\"]");
        assertThat(older.json().path("detail").asString()).contains("precision=int8-block32, layout=ane");
    }

    @Test
    void whenNothingFitsEvenWithoutTheFilterTheUsualRefusalsStay() {
        Response tooOld = resolve("chip=A17_PRO&os=15.0&precision=int8");
        assertThat(tooOld.status()).as(tooOld.text()).isEqualTo(422);
        assertThat(tooOld.problem()).isEqualTo("os-too-old");
        assertThat(tooOld.json().path("minimumOs").asString()).isEqualTo("16.0");
        Response otherChip = resolve("chip=A15&os=18.0&precision=fp16");
        assertThat(otherChip.status()).isEqualTo(404);
        assertThat(otherChip.problem()).isEqualTo("no-variant-for-chip");
    }

    @Test
    void unknownValuesAreRefusedWithTheAllowedOnes() {
        Response p = resolve("chip=A17_PRO&os=18.0&precision=fp8");
        assertThat(p.status()).as(p.text()).isEqualTo(400);
        assertThat(p.problem()).isEqualTo("invalid-parameter");
        assertThat(p.json().path("parameter").asString()).isEqualTo("precision");
        assertThat(p.json().path("allowed").toString()).isEqualTo("[\"fp16\",\"int8\",\"w8a8\",\"int4\",\"fp32\"]");
        assertThat(p.json().path("allowedExact").toString()).isEqualTo("[\"int8-channel\","
                + "\"int8-block{32,64,128}[-affine][-mse|-gptq]\",\"int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8]\","
                + "\"w8a8-affine\",\"w8a8-symmetric\"]");
        assertThat(p.json().path("detail").asString()).startsWith("precision 'fp8' is not a precision: use a family [fp16,")
                .contains("int8-block{32,64,128}").contains("w8a8-affine").contains("w8a8-symmetric");
        Response l = resolve("chip=A17_PRO&os=18.0&layout=gpu");
        assertThat(l.status()).as(l.text()).isEqualTo(400);
        assertThat(l.problem()).isEqualTo("invalid-parameter");
        assertThat(l.json().path("parameter").asString()).isEqualTo("layout");
        assertThat(l.json().path("allowed").toString()).isEqualTo("[\"ane\",\"standard\"]");
        assertThat(l.json().path("detail").asString()).isEqualTo("layout 'gpu' is not a layout; use one of [ane, standard]");
    }

    /** Answers and refusals are cached per filter: neither leaks into a call with another (or no) filter. */
    @Test
    void theCacheKeyIncludesTheFilter() {
        String q = "chip=A17_PRO&os=18.3";
        assertThat(describe(variant(q))).isEqualTo("18.0 ane int8-block32");
        assertThat(describe(variant(q + "&precision=fp16"))).isEqualTo("16.0 ane fp16");
        assertThat(describe(variant(q + "&precision=fp16&layout=standard"))).isEqualTo("16.0 standard fp16");
        assertThat(resolve(q + "&precision=int4").problem()).isEqualTo("no-variant-matches-filter");
        assertThat(describe(variant(q))).isEqualTo("18.0 ane int8-block32");
        assertThat(describe(variant(q + "&precision=fp16"))).isEqualTo("16.0 ane fp16");
    }
}
