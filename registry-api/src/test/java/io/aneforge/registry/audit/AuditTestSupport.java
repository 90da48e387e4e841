package io.aneforge.registry.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.job.JobTestSupport;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * What the audit tests share: the refusal rows read back through {@code GET /api/v1/audit/refusals} (by query or by
 * the request id a test sent), and API tokens minted for one test, so that its rows are its own. The audit events'
 * helpers ({@code auditEvents}, {@code auditEvent}) are in RegistryTestBase, which other tests use too; agents and
 * jobs (JobTestSupport) are here because audited writes include agent registrations, leases and reports.
 */
abstract class AuditTestSupport extends JobTestSupport {

    @Autowired
    protected JdbcClient jdbc;

    @Autowired
    protected RefusedWrites refusedWrites;

    /** The refusal rows {@code GET /api/v1/audit/refusals?<query>} answers, newest first, after checking the 200. */
    protected List<JsonNode> refusals(String query) {
        Response r = get("/api/v1/audit/refusals?" + query, ADMIN);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<JsonNode> rows = new ArrayList<>();
        r.json().path("refusals").forEach(rows::add);
        return rows;
    }

    /** The refusal rows that name {@code requestId} as their first or last request: none, or one. */
    protected List<JsonNode> refusalsOf(String requestId) {
        return refusals("requestId=" + URLEncoder.encode(requestId, StandardCharsets.UTF_8));
    }

    /** The one refusal row that names {@code requestId}, after checking there is exactly one. */
    protected JsonNode oneRefusalOf(String requestId) {
        List<JsonNode> rows = refusalsOf(requestId);
        assertThat(rows).as("one row for request " + requestId).hasSize(1);
        return rows.get(0);
    }

    /** A token {@link #mint} created: its id and its secret. */
    protected record Minted(long id, String token) {}

    /** Creates a token named {@code name} with {@code role}, as the admin. */
    protected Minted mint(String name, String role) {
        return mint(Map.of("name", name, "role", role));
    }

    /** Creates a token as the admin from {@code request} ({@code POST /api/v1/tokens}: name, role, models). */
    protected Minted mint(Map<String, Object> request) {
        Response r = send("POST", "/api/v1/tokens", ADMIN, request);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return new Minted(r.json().path("id").asLong(), r.json().path("token").asString());
    }
}
