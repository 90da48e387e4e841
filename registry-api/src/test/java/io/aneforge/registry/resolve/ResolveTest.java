package io.aneforge.registry.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class ResolveTest extends RegistryTestBase {

    private static final String M = "resolve-model";
    private static boolean seeded;

    /** Version 1 (published, alias production): A17_PRO variants for 17.0 and 18.0, A16 for 16.0, no M chips. */
    @BeforeEach
    void seed() {
        if (seeded) return;
        inProduction(M, "first release", "A17_PRO 17.0 ane fp16", "A17_PRO 18.0 standard fp16", "A17_PRO 18.0 ane int8",
                "A17_PRO 18.0 ane fp16", "A16 16.0 ane fp16");
        seeded = true;
    }

    private Response resolve(String query, String... headers) {
        return get("/api/v1/models/" + M + "/resolve?" + query, reader(), headers);
    }

    @Test
    void exactChipPicksNewestTargetThenAneThenFp16() {
        Response r = resolve("device=iPhone16,1&os=18.2&alias=production");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        JsonNode j = r.json();
        assertThat(j.path("version").asInt()).isEqualTo(1);
        assertThat(j.path("variant").path("chip").asString()).isEqualTo("A17_PRO");
        assertThat(j.path("variant").path("deploymentTarget").asString()).isEqualTo("18.0");
        assertThat(j.path("variant").path("layout").asString()).isEqualTo("ane");
        assertThat(j.path("variant").path("precision").asString()).isEqualTo("fp16");
        assertThat(j.path("minimumOs").asString()).isEqualTo("18.0");
        assertThat(j.path("fallback").asBoolean()).isFalse();
        String digest = j.path("digest").asString();
        assertThat(digest).startsWith("sha256:");
        assertThat(j.path("url").asString()).isEqualTo("/api/v1/blobs/" + digest);
        // The URL really serves the artifact whose digest was announced.
        Response blob = get(j.path("url").asString(), reader());
        assertThat(blob.status()).isEqualTo(200);
        assertThat("sha256:" + sha256(blob.body())).isEqualTo(digest);
        assertThat(j.path("size").asLong()).isEqualTo(blob.body().length);
    }

    /**
     * review-d #13: the newest deployment target the OS allows wins before precision is looked at (the default
     * recipe's iOS 18 int8 beats its iOS 16 fp16 on an iOS 18 device), and the answer names the variant's id.
     */
    @Test
    void newestTargetWinsBeforePrecisionAndTheAnswerNamesTheVariant() {
        String m = "resolve-target-first";
        createModel(m);
        int v = createVersion(m);
        long fp16 = registerVariant(m, v, "A17_PRO", "16.0", "ane", "fp16", upload(mlpackage(m + "fp16"))).json()
                .path("id").asLong();
        long int8 = registerVariant(m, v, "A17_PRO", "18.0", "ane", "int8", upload(mlpackage(m + "int8"))).json()
                .path("id").asLong();
        assertThat(fp16).isPositive();
        publishWithoutGoldenData(m, v);
        assertThat(moveAlias(m, "production", v, "first release").status()).isEqualTo(200);
        JsonNode ios18 = get("/api/v1/models/" + m + "/resolve?device=iPhone16,1&os=18.0", reader()).json();
        assertThat(ios18.path("variant").path("precision").asString()).isEqualTo("int8");
        assertThat(ios18.path("variantId").asLong()).isEqualTo(int8);
        JsonNode ios17 = get("/api/v1/models/" + m + "/resolve?device=iPhone16,1&os=17.0", reader()).json();
        assertThat(ios17.path("variant").path("precision").asString()).isEqualTo("fp16");
        assertThat(ios17.path("variantId").asLong()).isEqualTo(fp16);
    }

    @Test
    void olderOsGetsTheOlderTarget() {
        Response r = resolve("chip=A17_PRO&os=17.4");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("variant").path("deploymentTarget").asString()).isEqualTo("17.0");
    }

    @Test
    void newerChipFallsBackToTheClosestOlderChipOfItsLine() {
        Response r = resolve("device=iPhone17,3&os=18.1"); // A18, no A18 variants
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("variant").path("chip").asString()).isEqualTo("A17_PRO");
        assertThat(r.json().path("requestedChip").asString()).isEqualTo("A18");
        assertThat(r.json().path("fallback").asBoolean()).isTrue();
    }

    @Test
    void osBelowAChipsVariantsFallsBackToAnOlderChipThatFits() {
        Response r = resolve("device=iPhone16,1&os=16.5"); // A17_PRO variants need 17+, A16 has 16.0
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("variant").path("chip").asString()).isEqualTo("A16");
    }

    @Test
    void tooOldOsIsRefusedWithTheMinimum() {
        Response r = resolve("device=iPhone16,1&os=15.7");
        assertThat(r.status()).isEqualTo(422);
        assertThat(r.problem()).isEqualTo("os-too-old");
        assertThat(r.json().path("minimumOs").asString()).isEqualTo("16.0");
        assertThat(r.json().path("detail").asString()).contains("lowest deployment target among them is 16.0");
    }

    @Test
    void olderChipNeverGetsANewerChipsVariant() {
        Response r = resolve("chip=A15&os=18.0");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.problem()).isEqualTo("no-variant-for-chip");
        assertThat(r.json().path("detail").asString())
                .isEqualTo("version 1 of 'resolve-model' has no variant usable on A15 (compatible chips, best first: [A15, A14]);"
                        + " it has variants for [A16, A17_PRO]");
    }

    @Test
    void neverCrossesFromTheMLineToTheALine() {
        Response r = resolve("device=iPad16,3&os=18.0"); // M4
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.problem()).isEqualTo("no-variant-for-chip");
        assertThat(r.json().path("chipsWithVariants").toString()).contains("A16", "A17_PRO");
    }

    @Test
    void unknownDeviceIsExplained() {
        Response r = resolve("device=iPhone99,9&os=18.0");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("unknown-device");
        assertThat(r.json().path("detail").asString()).startsWith("device identifier 'iPhone99,9' is not in the device map");
    }

    @Test
    void aliasNotSetIsExplained() {
        Response r = resolve("device=iPhone16,1&os=18.0&alias=beta");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.problem()).isEqualTo("alias-not-set");
        assertThat(r.json().path("detail").asString()).isEqualTo("model 'resolve-model' has no alias 'beta'; its aliases are [production]");
    }

    @Test
    void matchingEtagGives304() {
        Response first = resolve("device=iPhone16,1&os=18.2&alias=production");
        String etag = first.header("ETag");
        assertThat(etag).isNotBlank();
        Response again = resolve("device=iPhone16,1&os=18.2&alias=production", "If-None-Match", etag);
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        Response other = resolve("device=iPhone16,1&os=18.2&alias=production", "If-None-Match", "\"something-else\"");
        assertThat(other.status()).isEqualTo(200);
    }

    @Test
    void badQueriesAreRefused() {
        assertThat(resolve("os=18.0").problem()).isEqualTo("device-or-chip-required");
        assertThat(resolve("chip=A17_PRO").problem()).isEqualTo("missing-parameter");
        assertThat(resolve("chip=A17_PRO&os=latest").problem()).isEqualTo("invalid-os");
        assertThat(resolve("chip=Z9&os=18.0").problem()).isEqualTo("unknown-chip");
        assertThat(get("/api/v1/models/nope/resolve?chip=A17_PRO&os=18.0", reader()).problem()).isEqualTo("model-not-found");
    }

    @Test
    void unknownQueryParametersAreRefusedNotIgnored() {
        // production is set, so ignoring the typo would answer 200 with whatever production points at.
        for (String typo : new String[] {"revision=abc", "verison=2", "rev=1", "tag=v1"}) {
            Response r = resolve("device=iPhone16,1&os=18.2&" + typo);
            assertThat(r.status()).as(typo + ": " + r.text()).isEqualTo(400);
            assertThat(r.problem()).isEqualTo("invalid-parameter");
            String name = typo.substring(0, typo.indexOf('='));
            assertThat(r.json().path("detail").asString())
                    .contains("unknown query parameter '" + name + "'").contains("device|chip, os, alias|version");
            assertThat(r.json().path("parameter").asString()).isEqualTo(name);
            assertThat(r.json().path("allowed").toString()).contains("device", "chip", "os", "alias", "version");
        }
        // A known parameter still resolves.
        assertThat(resolve("device=iPhone16,1&os=18.2&version=1").status()).isEqualTo(200);
    }
}
