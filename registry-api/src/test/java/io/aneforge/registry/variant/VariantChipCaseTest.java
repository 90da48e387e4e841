package io.aneforge.registry.variant;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A variant's chip is matched like the CLI matches --chips: in any case, stored as the catalog spells it. */
class VariantChipCaseTest extends RegistryTestBase {

    @Test
    void aChipInAnyCaseIsStoredAsTheCatalogsId() {
        createModel("chip-case");
        int v = createVersion("chip-case");
        Response r = registerVariant("chip-case", v, "a17_pro", "18.0", "ane", "fp16", upload(mlpackage("chip-case")));
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        assertThat(r.json().path("chip").asString()).isEqualTo("A17_PRO");
        // the same variant in the catalog's spelling is the same identity
        Response again = registerVariant("chip-case", v, "A17_PRO", "18.0", "ane", "fp16", upload(mlpackage("chip-case-2")));
        assertThat(again.status()).as(again.text()).isEqualTo(409);
        assertThat(again.json().path("detail").asString()).contains("already has a variant for A17_PRO 18.0");

        Response unknown = registerVariant("chip-case", v, "a99", "18.0", "ane", "fp16", upload(mlpackage("chip-case-3")));
        assertThat(unknown.status()).as(unknown.text()).isEqualTo(400);
        assertThat(unknown.json().path("detail").asString()).startsWith("chip 'a99' is not in the catalog");
    }

    @Test
    void aMalformedUuidParameterSaysAUuidIsExpected() {
        Response r = send("POST", "/api/v1/agents/1/drain", ADMIN, Map.of("reason", "malformed id"));
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.problem()).isEqualTo("invalid-parameter");
        assertThat(r.json().path("detail").asString()).isEqualTo("parameter 'id' has an invalid value '1': expected a UUID"
                + " such as 3f2c9a4e-7b1d-4c5e-9f60-1a2b3c4d5e6f");
    }
}
