package io.aneforge.registry.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.RegistryTestBase;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/** Every endpoint x every role: 401 without a token, 403 for a role not allowed, neither for an allowed one. */
class RoleMatrixTest extends RegistryTestBase {

    private static final Set<String> ALL = Set.of("reader", "publisher", "qa", "worker", "agent", "admin");
    private static final Set<String> PUBLISH = Set.of("publisher", "admin");
    private static final Set<String> BUILD = Set.of("publisher", "worker", "admin");
    private static final Set<String> ADMIN_ONLY = Set.of("admin");
    private static final Set<String> WORKER = Set.of("worker", "admin");
    private static final Set<String> AGENT = Set.of("agent", "admin");
    private static final String NO_AGENT = "/api/v1/agents/00000000-0000-0000-0000-000000000000";

    record Endpoint(String method, String path, Object body, Set<String> allowed) {}

    private static final String HEX = "a".repeat(64);

    private static final List<Endpoint> ENDPOINTS = List.of(
            new Endpoint("POST", "/api/v1/tokens", Map.of("name", "x", "role", "nonsense"), ADMIN_ONLY),
            new Endpoint("GET", "/api/v1/tokens", null, ADMIN_ONLY),
            new Endpoint("GET", "/api/v1/tokens/self", null, ALL),
            new Endpoint("GET", "/api/v1/audit?limit=1", null, ADMIN_ONLY),
            new Endpoint("GET", "/api/v1/audit/refusals?limit=1", null, ADMIN_ONLY),
            new Endpoint("DELETE", "/api/v1/tokens/999999", null, ADMIN_ONLY),
            new Endpoint("PATCH", "/api/v1/tokens/999999", Map.of("models", List.of("x")), ADMIN_ONLY),
            new Endpoint("POST", "/api/v1/models", Map.of("name", "Invalid Name", "task", "t"), PUBLISH),
            new Endpoint("GET", "/api/v1/models", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix", null, ALL),
            new Endpoint("POST", "/api/v1/models/nope/versions", Map.of("source", Map.of("type", "upload")), BUILD),
            new Endpoint("GET", "/api/v1/models/matrix/versions", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/versions/1", null, ALL),
            new Endpoint("POST", "/api/v1/models/nope/versions/1/publish", null, BUILD),
            new Endpoint("POST", "/api/v1/models/nope/versions/1/yank", Map.of("reason", "r"), PUBLISH),
            new Endpoint("POST", "/api/v1/models/nope/versions/1/variants", Map.of("chip", "A16"), BUILD),
            new Endpoint("GET", "/api/v1/models/matrix/versions/1/variants", null, ALL),
            new Endpoint("POST", "/api/v1/models/nope/versions/1/variants/1/yank", Map.of("reason", "r"), PUBLISH),
            new Endpoint("PUT", "/api/v1/blobs/sha256:" + HEX, new byte[] {1, 2, 3}, BUILD),
            new Endpoint("GET", "/api/v1/blobs/sha256:" + HEX, null, ALL),
            new Endpoint("HEAD", "/api/v1/blobs/sha256:" + HEX, null, ALL),
            new Endpoint("PUT", "/api/v1/models/nope/aliases/production", Map.of("version", 1, "reason", "r"), PUBLISH),
            new Endpoint("DELETE", "/api/v1/models/nope/aliases/production", Map.of("reason", "r"), PUBLISH),
            new Endpoint("GET", "/api/v1/models/matrix/aliases", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/aliases/production", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/aliases/production/history", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/resolve?chip=A16&os=18.0", null, ALL),
            new Endpoint("GET", "/api/v1/chips", null, ALL),
            new Endpoint("GET", "/api/v1/devices", null, ALL),
            new Endpoint("GET", "/api/v1/devices/iPhone16,1", null, ALL),
            new Endpoint("GET", "/api/v1/conversions?state=all&limit=5", null, ALL),
            new Endpoint("GET", "/api/v1/conversions/999999", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/versions/1/conversion", null, ALL),
            new Endpoint("POST", "/api/v1/conversions/999999/cancel", null, PUBLISH),
            // A blank worker id is refused (400) before anything is leased.
            new Endpoint("POST", "/api/v1/conversions/lease", Map.of("worker", ""), WORKER),
            new Endpoint("POST", "/api/v1/conversions/999999/lease", Map.of("worker", "w"), WORKER),
            new Endpoint("POST", "/api/v1/conversions/999999/heartbeat", Map.of("leaseToken", "t"), WORKER),
            new Endpoint("POST", "/api/v1/conversions/999999/progress", Map.of("leaseToken", "t"), WORKER),
            new Endpoint("POST", "/api/v1/conversions/999999/complete", Map.of("leaseToken", "t"), WORKER),
            new Endpoint("POST", "/api/v1/conversions/999999/fail", Map.of("leaseToken", "t", "reason", "r"), WORKER),
            new Endpoint("POST", "/api/v1/conversions/999999/release", Map.of("leaseToken", "t"), WORKER),
            new Endpoint("POST", "/api/v1/conversions/lease-requests/00000000-0000-0000-0000-000000000001/release",
                    Map.of("worker", "w"), WORKER),
            new Endpoint("POST", "/api/v1/agents", Map.of("hostName", ""), AGENT),
            new Endpoint("GET", "/api/v1/agents", null, ALL),
            new Endpoint("GET", "/api/v1/workers", null, ALL),
            new Endpoint("POST", NO_AGENT + "/drain", Map.of("draining", true), AGENT),
            new Endpoint("PUT", NO_AGENT + "/token", Map.of("tokenId", 999999), ADMIN_ONLY),
            new Endpoint("DELETE", NO_AGENT, null, ADMIN_ONLY),
            new Endpoint("POST", NO_AGENT + "/lease", null, AGENT),
            new Endpoint("POST", NO_AGENT + "/heartbeat", Map.of("leaseIds", java.util.List.of()), AGENT),
            new Endpoint("POST", NO_AGENT + "/jobs/1/release", Map.of("leaseId", "00000000-0000-0000-0000-000000000001"), AGENT),
            new Endpoint("POST", NO_AGENT + "/lease-requests/00000000-0000-0000-0000-000000000001/release", Map.of(), AGENT),
            new Endpoint("POST", NO_AGENT + "/jobs/1/result", Map.of("outcome", "failed"), AGENT),
            new Endpoint("GET", "/api/v1/models/matrix/versions/1/jobs", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/versions/1/results", null, ALL),
            new Endpoint("PUT", "/api/v1/models/nope/versions/1/golden", Map.of("inputs", "x", "outputs", "y"), BUILD),
            new Endpoint("POST", "/api/v1/models/nope/versions/1/accuracy-runs", null, PUBLISH),
            new Endpoint("GET", "/api/v1/models/matrix/gates", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/gates/history", null, ALL),
            new Endpoint("PUT", "/api/v1/models/nope/gates", Map.of("minCosine", 0.999), PUBLISH),
            // one path, two handlers: JSON (default) and text/csv
            new Endpoint("GET", "/api/v1/models/matrix/versions/1/matrix", null, ALL),
            new Endpoint("GET", "/api/v1/models/matrix/versions/1/matrix?baseline=2", null, ALL));

    @Autowired
    org.springframework.jdbc.core.simple.JdbcClient jdbc;

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    @Test
    void matrixCoversEveryRegistryEndpoint() {
        long registryEndpoints = mappings.getHandlerMethods().entrySet().stream()
                .filter(e -> e.getValue().getBeanType().getPackageName().startsWith("io.aneforge"))
                .mapToLong(e -> e.getKey().getMethodsCondition().getMethods().size())
                .sum();
        assertThat(ENDPOINTS).hasSize((int) registryEndpoints);
    }

    @Test
    void roleByEndpoint() {
        createModel("matrix");
        for (Endpoint e : ENDPOINTS) {
            Response anonymous = send(e.method(), e.path(), null, e.body());
            assertThat(anonymous.status()).as("anonymous " + e.method() + " " + e.path()).isEqualTo(401);
            assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
            Response bogus = send(e.method(), e.path(), "af_not-a-token", e.body());
            assertThat(bogus.status()).as("bogus token " + e.method() + " " + e.path()).isEqualTo(401);
            for (String role : ALL) {
                Response r = send(e.method(), e.path(), token(role), e.body());
                String what = role + " " + e.method() + " " + e.path() + " -> " + r.text();
                if (e.allowed().contains(role)) {
                    assertThat(r.status()).as(what).isNotIn(401, 403).isLessThan(500);
                } else {
                    assertThat(r.status()).as(what).isEqualTo(403);
                    if (!e.method().equals("HEAD")) assertThat(r.problem()).isEqualTo("forbidden-role");
                }
            }
        }
    }

    @Test
    void everyEndpointDeclaresItsRoles() {
        Map<RequestMappingInfo, HandlerMethod> all = mappings.getHandlerMethods();
        List<String> ours = all.entrySet().stream()
                .filter(e -> e.getValue().getBeanType().getPackageName().startsWith("io.aneforge"))
                .map(e -> e.getValue().getShortLogMessage()).toList();
        assertThat(ours).hasSizeGreaterThan(15);
        List<String> missing = all.values().stream()
                .filter(h -> h.getBeanType().getPackageName().startsWith("io.aneforge"))
                .filter(h -> !h.hasMethodAnnotation(Allowed.class))
                .map(HandlerMethod::getShortLogMessage).toList();
        assertThat(missing).as("endpoints without @Allowed").isEmpty();
    }

    @Test
    void revokedTokensStopWorking() {
        Response minted = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", "short-lived", "role", "reader"));
        assertThat(minted.status()).isEqualTo(201);
        String token = minted.json().path("token").asString();
        assertThat(token).startsWith("af_");
        assertThat(get("/api/v1/chips", token).status()).isEqualTo(200);
        // Stored as its sha256 only; the first use stamps last_used_at.
        Map<String, Object> row = jdbc.sql("SELECT token_sha256, last_used_at FROM api_token WHERE name = 'short-lived'").query().singleRow();
        assertThat(row.get("token_sha256")).isEqualTo(sha256(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(row.get("last_used_at")).isNotNull();
        assertThat(send("DELETE", "/api/v1/tokens/" + minted.json().path("id").asLong(), ADMIN, null).status()).isEqualTo(204);
        assertThat(get("/api/v1/chips", token).status()).isEqualTo(401);
        Response list = get("/api/v1/tokens", ADMIN);
        assertThat(list.text()).doesNotContain(token).contains("short-lived");
    }
}
