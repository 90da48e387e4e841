package io.aneforge.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Health (database and storage), Prometheus metrics, the OpenAPI document, problem+json for unknown paths. */
class OperationsTest extends RegistryTestBase {

    @Test
    void healthCoversDatabaseAndStorage() {
        Response r = get("/actuator/health", null);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        JsonNode components = r.json().path("components");
        assertThat(components.path("db").path("status").asString()).isEqualTo("UP");
        assertThat(components.path("storage").path("status").asString()).isEqualTo("UP");
        // no token is needed, so no details: they named the data directory, disk sizes, the database and the bucket
        assertThat(r.text()).doesNotContain("details", "embedded", "PostgreSQL", "free", "path");
        assertThat(components.path("diskSpace").path("status").asString()).isEqualTo("UP");
    }

    /** The probe groups come from application.yml, so a plain start (no Kubernetes, no env) serves them. */
    @Test
    void livenessAndReadinessProbesAreServedWithReadinessCoveringDatabaseAndStorage() {
        Response live = get("/actuator/health/liveness", null);
        assertThat(live.status()).as(live.text()).isEqualTo(200);
        assertThat(live.json().path("status").asString()).isEqualTo("UP");
        assertThat(live.json().path("components").propertyNames()).containsExactly("livenessState");
        Response ready = get("/actuator/health/readiness", null);
        assertThat(ready.status()).as(ready.text()).isEqualTo(200);
        assertThat(ready.json().path("components").propertyNames())
                .containsExactlyInAnyOrder("readinessState", "db", "storage");
    }

    /** Metrics show what health hides (data directory, disk sizes, request counts): a token, any role. */
    @Test
    void prometheusMetricsNeedAToken() {
        get("/api/v1/chips", reader());
        Response open = get("/actuator/prometheus", null);
        assertThat(open.status()).as(open.text()).isEqualTo(401);
        assertThat(open.header("Content-Type")).startsWith("application/problem+json");
        assertThat(open.problem()).isEqualTo("unauthenticated");
        assertThat(open.text()).doesNotContain("disk_free_bytes", "http_server_requests");
        Response bad = get("/actuator/prometheus", "not-a-token");
        assertThat(bad.status()).isEqualTo(401);
        assertThat(bad.problem()).isEqualTo("invalid-token");

        Response r = get("/actuator/prometheus", reader());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).contains("http_server_requests_seconds_count");

        // The container serves these spellings as the same endpoint: the check must not be bypassed by them.
        for (String spelling : new String[] {"/actuator/prometheus;x=1", "/actuator/%70rometheus", "/actuator/./prometheus",
                "/actuator/prometheus/", "/actuator"}) {
            Response sneaky = get(spelling, null);
            assertThat(sneaky.status()).as(spelling + ": " + sneaky.text()).isIn(401, 404);
            assertThat(sneaky.text()).as(spelling).doesNotContain("http_server_requests", "disk_free_bytes");
        }
        assertThat(get("/actuator/health", null).status()).isEqualTo(200);
        assertThat(get("/actuator/health/readiness", null).status()).isEqualTo(200);
    }

    /** Which build a pod runs, without a token: the build-info goal's version (no time: builds are reproducible). */
    @Test
    void infoShowsTheBuild() {
        Response r = get("/actuator/info", null);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("build").path("version").asString()).isNotBlank();
        assertThat(r.json().path("build").path("artifact").asString()).isEqualTo("registry-api");
        assertThat(r.json().path("build").has("time")).as("the fixed reproducible-build time would mislead").isFalse();
    }

    /** Which commit: git.properties from the git-commit-id plugin (abbreviated id and commit time, no build time). */
    @Test
    void infoShowsTheCommitWhenBuiltFromAGitCheckout() {
        assumeTrue(Files.exists(Path.of("..", ".git")), "built from a source tree without .git: no commit to show");
        Response r = get("/actuator/info", null);
        JsonNode commit = r.json().path("git").path("commit");
        assertThat(commit.path("id").asString()).as(r.text()).matches("[0-9a-f]{7,12}");
        assertThat(commit.path("time").asString()).as(r.text()).isNotBlank();
        assertThat(r.json().path("git").has("build")).as("a build time would make the jar differ per build").isFalse();
    }

    @Test
    void openApiDocumentListsTheApi() {
        Response r = get("/v3/api-docs", null);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        JsonNode paths = r.json().path("paths");
        assertThat(paths.has("/api/v1/models/{name}/resolve")).isTrue();
        assertThat(paths.has("/api/v1/blobs/sha256:{hex}")).isTrue();
        assertThat(get("/swagger-ui.html", null).status()).isIn(200, 302);
    }

    @Test
    void chipsAndDevicesAreServed() {
        JsonNode chips = get("/api/v1/chips", reader()).json();
        assertThat(chips.size()).isGreaterThanOrEqualTo(10);
        assertThat(chips.get(0).path("source").asString()).isNotBlank();
        JsonNode dev = get("/api/v1/devices/iPhone16,1", reader()).json();
        assertThat(dev.path("chip").path("id").asString()).isEqualTo("A17_PRO");
        Response unknown = get("/api/v1/devices/iPhone99,1", reader());
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.problem()).isEqualTo("unknown-device");
        assertThat(unknown.header("Content-Type")).startsWith("application/problem+json");
    }
}
