package io.aneforge.registry.alias;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Pointing an alias at the version it already has is a no-op, for every version number (not only up to 127). */
class AliasRepeatTest extends RegistryTestBase {

    @Test
    void repointingAnAliasAtItsOwnVersionIsANoOpFromVersion128On() {
        String m = "alias-repeat";
        createModel(m);
        int last = 0;
        for (int i = 0; i < 128; i++) last = createVersion(m);
        assertThat(last).isEqualTo(128);
        addVariant(m, 128, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData(m, 128);
        // gates whose accuracy result never comes: a real move needs an admin override
        Response gates = send("PUT", "/api/v1/models/" + m + "/gates", publisher(), "{\"minCosine\":0.999}");
        assertThat(gates.status()).as(gates.text()).isEqualTo(200);
        Response first = send("PUT", "/api/v1/models/" + m + "/aliases/prod", ADMIN,
                Map.of("version", 128, "reason", "first", "override", true));
        assertThat(first.status()).as(first.text()).isEqualTo(200);

        Response again = moveAlias(m, "prod", 128, "same again");
        assertThat(again.status()).as(again.text()).isEqualTo(200);
        assertThat(again.json().path("version").asInt()).isEqualTo(128);
        Response adminAgain = send("PUT", "/api/v1/models/" + m + "/aliases/prod", ADMIN,
                Map.of("version", 128, "reason", "same again", "override", true));
        assertThat(adminAgain.status()).as(adminAgain.text()).isEqualTo(200);

        JsonNode history = get("/api/v1/models/" + m + "/aliases/prod/history", reader()).json();
        assertThat(history).as(history.toString()).hasSize(1);
        assertThat(history.get(0).path("fromVersion").isNull()).isTrue();
        assertThat(history.get(0).path("toVersion").asInt()).isEqualTo(128);
    }
}
