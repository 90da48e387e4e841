package io.aneforge.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What the deployment checks read out of the modules is what the modules say. */
class SpringAppTest {

    @Test
    void registryPlaceholdersAndTheirDefaults() {
        var placeholders = SpringApp.REGISTRY.placeholders();
        assertThat(placeholders).containsEntry("ANEFORGE_S3_BUCKET", "aneforge")
                .containsEntry("ANEFORGE_ADMIN_TOKEN", "")
                .containsKey("ANEFORGE_S3_ENDPOINT");
        // ${user.home}-style system properties are not environment variables.
        assertThat(SpringApp.AGENT.placeholders()).doesNotContainKey("user.home");
    }

    @Test
    void relaxedBindingNamesAreKnownAndTyposAreNot() {
        assertThat(SpringApp.AGENT.knows("ANEFORGE_AGENT_CACHE_MAX_SIZE")).isTrue();
        assertThat(SpringApp.AGENT.knows("ANEFORGE_AGENT_CACHE_MAXSIZE")).isTrue();
        assertThat(SpringApp.AGENT.knows("ANEFORGE_AGENT_RUNTIMES")).isTrue();
        assertThat(SpringApp.AGENT.knows("ANEFORGE_AGENT_RUNTIME")).isFalse();
        assertThat(SpringApp.REGISTRY.knows("ANEFORGE_S3_ACESS_KEY")).isFalse();
        assertThat(SpringApp.REGISTRY.knows("ANEFORGE_S3_ACCESS_KEY")).isTrue();
        // aneforge.s3.access-key bound directly (canonical form: dash removed).
        assertThat(SpringApp.REGISTRY.knows("ANEFORGE_S3_ACCESSKEY")).isTrue();
        assertThat(SpringApp.REGISTRY.knows("SERVER_PORT")).isTrue();
    }

    @Test
    void effectiveValuesPreferTheEnvironmentOverApplicationYml() {
        String key = "management.endpoint.health.group.readiness.include";
        assertThat(SpringApp.REGISTRY.effective(key, java.util.Map.of())).isEqualTo("readinessState,db,storage");
        assertThat(SpringApp.REGISTRY.effective(key, java.util.Map.of("MANAGEMENT_ENDPOINT_HEALTH_GROUP_READINESS_INCLUDE", "db")))
                .isEqualTo("db");
        assertThat(SpringApp.AGENT.effective("management.endpoint.health.probes.enabled", java.util.Map.of())).isNull();
    }

    @Test
    void webAndPortFacts() {
        assertThat(SpringApp.REGISTRY.servesHttp()).isTrue();
        assertThat(SpringApp.REGISTRY.serverPort()).isEqualTo(8080);
        // web-application-type none
        assertThat(SpringApp.AGENT.servesHttp()).isFalse();
    }
}
