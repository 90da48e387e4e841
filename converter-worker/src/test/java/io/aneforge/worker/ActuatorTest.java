package io.aneforge.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The worker's actuator port: with {@code ANEFORGE_WORKER_METRICS_TOKEN} set, Prometheus needs that token, by the
 * registry's rule (decoded, normalized path: the {@code ;x=1} and {@code %70rometheus} spellings are guarded too);
 * without it the endpoint stays open; health and info are always open, and info names the build and its commit.
 */
class ActuatorTest {

    private static final String METRICS_TOKEN = "worker-metrics-token-0123456789";
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void prometheusNeedsTheMetricsTokenWhenOneIsSet() throws Exception {
        ConfigurableApplicationContext worker = Stack.get().startWorker("e2e-actuator-token", 1,
                Map.of("ANEFORGE_WORKER_POLL", "false", "ANEFORGE_WORKER_METRICS_TOKEN", METRICS_TOKEN));
        try {
            String base = "http://127.0.0.1:" + worker.getEnvironment().getProperty("local.server.port");
            HttpResponse<String> open = get(base + "/actuator/prometheus", null);
            assertThat(open.statusCode()).as(open.body()).isEqualTo(401);
            assertThat(open.headers().firstValue("Content-Type")).hasValueSatisfying(
                    t -> assertThat(t).startsWith("application/problem+json"));
            assertThat(problem(open)).isEqualTo("unauthenticated");
            assertThat(open.body()).contains("ANEFORGE_WORKER_METRICS_TOKEN").doesNotContain("jvm_");
            HttpResponse<String> wrong = get(base + "/actuator/prometheus", "not-the-token");
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(problem(wrong)).isEqualTo("invalid-token");

            HttpResponse<String> scraped = get(base + "/actuator/prometheus", METRICS_TOKEN);
            assertThat(scraped.statusCode()).isEqualTo(200);
            assertThat(scraped.body()).contains("jvm_");

            // The container serves these spellings as the same endpoint: the check must not be bypassed by them.
            for (String spelling : new String[] {"/actuator/prometheus;x=1", "/actuator/%70rometheus",
                    "/actuator/./prometheus", "/actuator/prometheus/", "/actuator"}) {
                HttpResponse<String> sneaky = get(base + spelling, null);
                assertThat(sneaky.statusCode()).as(spelling + ": " + sneaky.body()).isIn(401, 404);
                assertThat(sneaky.body()).as(spelling).doesNotContain("jvm_");
            }
            assertThat(get(base + "/actuator/health/liveness", null).statusCode()).isEqualTo(200);
            HttpResponse<String> info = get(base + "/actuator/info", null);
            assertThat(info.statusCode()).isEqualTo(200);
            JsonNode body = Stack.JSON.readTree(info.body());
            assertThat(body.path("build").path("artifact").asString()).isEqualTo("converter-worker");
            assertThat(body.path("build").has("time")).isFalse();
            if (Files.exists(Path.of("..", ".git"))) {
                assertThat(body.path("git").path("commit").path("id").asString()).as(info.body()).matches("[0-9a-f]{7,12}");
                assertThat(body.path("git").has("build")).as("no build time: the jar is reproducible").isFalse();
            }
        } finally {
            worker.close();
        }
    }

    @Test
    void withoutAMetricsTokenPrometheusStaysOpen() throws Exception {
        ConfigurableApplicationContext worker = Stack.get().startWorker("e2e-actuator-open", 1,
                Map.of("ANEFORGE_WORKER_POLL", "false"));
        try {
            String base = "http://127.0.0.1:" + worker.getEnvironment().getProperty("local.server.port");
            HttpResponse<String> open = get(base + "/actuator/prometheus", null);
            assertThat(open.statusCode()).as(open.body()).isEqualTo(200);
            assertThat(open.body()).contains("jvm_");
        } finally {
            worker.close();
        }
    }

    private HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url)).GET();
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String problem(HttpResponse<String> r) {
        String type = Stack.JSON.readTree(r.body()).path("type").asString();
        return type.substring(type.lastIndexOf('/') + 1);
    }
}
