package io.aneforge.registry.alias;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A model shows its aliases (name -> version) and each version the aliases that point at it now, so an app team
 * sees what ships without a second call; both follow moves and deletions at once.
 */
class AliasesInViewsTest extends RegistryTestBase {

    private JsonNode version(JsonNode versions, int v) {
        for (JsonNode n : versions) if (n.path("version").asInt() == v) return n;
        throw new AssertionError("no version " + v + " in " + versions);
    }

    @Test
    void modelAndVersionsCarryTheirAliases() {
        String m = "alias-views";
        Response created = send("POST", "/api/v1/models", publisher(), Map.of("name", m, "task", "feature-extraction"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        assertThat(created.json().path("aliases").toString()).isEqualTo("{}");
        String base = "/api/v1/models/" + m;

        int v1 = createVersion(m);
        addVariant(m, v1, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData(m, v1);
        int v2 = createVersion(m);
        addVariant(m, v2, "A17_PRO", "18.0", "ane", "fp16");
        publishWithoutGoldenData(m, v2);
        int draft = createVersion(m);
        assertThat(get(base, reader()).json().path("aliases").toString()).isEqualTo("{}");
        assertThat(get(base + "/versions/" + v1, reader()).json().path("aliases").toString()).isEqualTo("[]");

        assertThat(moveAlias(m, "production", v1, "first release").status()).isEqualTo(200);
        assertThat(moveAlias(m, "staging", v2, "try v2").status()).isEqualTo(200);
        assertThat(moveAlias(m, "canary", v2, "try v2 on a few").status()).isEqualTo(200);

        // name -> version, by name
        assertThat(get(base, reader()).json().path("aliases").toString())
                .isEqualTo("{\"canary\":" + v2 + ",\"production\":" + v1 + ",\"staging\":" + v2 + "}");
        JsonNode listed = null;
        for (JsonNode n : get("/api/v1/models", reader()).json()) if (n.path("name").asString().equals(m)) listed = n;
        assertThat(listed.path("aliases").path("production").asInt()).isEqualTo(v1);
        JsonNode versions = get(base + "/versions", reader()).json();
        assertThat(version(versions, v1).path("aliases").toString()).isEqualTo("[\"production\"]");
        assertThat(version(versions, v2).path("aliases").toString()).isEqualTo("[\"canary\",\"staging\"]");
        assertThat(version(versions, draft).path("aliases").toString()).isEqualTo("[]");
        assertThat(get(base + "/versions/" + v2, reader()).json().path("aliases").toString())
                .isEqualTo("[\"canary\",\"staging\"]");

        // a move and a deletion show at once
        assertThat(moveAlias(m, "production", v2, "v2 is good").status()).isEqualTo(200);
        assertThat(send("DELETE", base + "/aliases/canary", publisher(), Map.of("reason", "done")).status()).isEqualTo(204);
        assertThat(get(base, reader()).json().path("aliases").toString())
                .isEqualTo("{\"production\":" + v2 + ",\"staging\":" + v2 + "}");
        versions = get(base + "/versions", reader()).json();
        assertThat(version(versions, v1).path("aliases").toString()).isEqualTo("[]");
        assertThat(version(versions, v2).path("aliases").toString()).isEqualTo("[\"production\",\"staging\"]");

        // another model's aliases are its own
        createModel("alias-views-other");
        assertThat(get("/api/v1/models/alias-views-other", reader()).json().path("aliases").toString()).isEqualTo("{}");
    }
}
