package io.aneforge.registry.alias;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A model's only published version, aliased (and by a misspelt alias too), can be withdrawn: list the aliases,
 * delete them (recorded in the history), then yank.
 */
class AliasRemovalTest extends RegistryTestBase {

    @Test
    void deletingTheAliasesLetsTheOnlyPublishedVersionBeYanked() {
        String m = "alias-removal";
        int v = inProduction(m, "first release", "A17_PRO 18.0 ane fp16");
        assertThat(moveAlias(m, "prodution", v, "typo alias").status()).isEqualTo(200);
        String base = "/api/v1/models/" + m;

        JsonNode list = get(base + "/aliases", reader()).json();
        assertThat(list).as(list.toString()).hasSize(2);
        assertThat(list.get(0).path("alias").asString()).isEqualTo("production");
        assertThat(list.get(1).path("alias").asString()).isEqualTo("prodution");
        assertThat(list.get(1).path("version").asInt()).isEqualTo(v);

        // The refusal names the way out, which exists now.
        Response refused = send("POST", base + "/versions/" + v + "/yank", publisher(), Map.of("reason", "tokenizer bug"));
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.problem()).isEqualTo("version-aliased");
        assertThat(refused.json().path("detail").asString()).contains("DELETE /api/v1/models/" + m + "/aliases/");

        Response noReason = send("DELETE", base + "/aliases/prodution", publisher(), null);
        assertThat(noReason.status()).as(noReason.text()).isEqualTo(400);
        assertThat(noReason.problem()).isEqualTo("reason-required");
        assertThat(send("DELETE", base + "/aliases/prodution", reader(), Map.of("reason", "r")).status()).isEqualTo(403);
        Response missing = send("DELETE", base + "/aliases/staging", publisher(), Map.of("reason", "r"));
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.problem()).isEqualTo("alias-not-set");

        Response typo = send("DELETE", base + "/aliases/prodution", publisher(), Map.of("reason", "typo"));
        assertThat(typo.status()).as(typo.text()).isEqualTo(204);
        Response prod = send("DELETE", base + "/aliases/production", publisher(), Map.of("reason", "withdraw v1"));
        assertThat(prod.status()).as(prod.text()).isEqualTo(204);
        assertThat(get(base + "/aliases", reader()).json()).isEmpty();
        // Resolve stops at once (the local resolve cache is dropped with the delete).
        assertThat(get(base + "/resolve?chip=A17_PRO&os=18.0", reader()).problem()).isEqualTo("alias-not-set");

        JsonNode history = get(base + "/aliases/production/history", reader()).json();
        assertThat(history).as(history.toString()).hasSize(2);
        assertThat(history.get(1).path("fromVersion").asInt()).isEqualTo(v);
        assertThat(history.get(1).path("toVersion").isNull()).isTrue();
        assertThat(history.get(1).path("reason").asString()).isEqualTo("withdraw v1");
        assertThat(history.get(1).path("changedBy").asString()).isEqualTo("test-publisher");

        Response yanked = send("POST", base + "/versions/" + v + "/yank", publisher(), Map.of("reason", "tokenizer bug"));
        assertThat(yanked.status()).as(yanked.text()).isEqualTo(200);
        assertThat(yanked.json().path("status").asString()).isEqualTo("yanked");
    }
}
