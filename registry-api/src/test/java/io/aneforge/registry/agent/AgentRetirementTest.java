package io.aneforge.registry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.job.JobTestSupport;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * DELETE /api/v1/agents/{id}: an admin retires an agent that is gone; it leaves the list (not the table: its
 * results keep naming it), is refused while online or holding a lease, and comes back when it calls again.
 */
class AgentRetirementTest extends JobTestSupport {

    @Autowired
    JdbcClient jdbc;

    private JsonNode listed(String host, boolean withRetired) {
        Response r = get("/api/v1/agents" + (withRetired ? "?retired=true" : ""), reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        for (JsonNode a : r.json()) {
            if (a.path("hostName").asString().equals(host)) {
                return a;
            }
        }
        return null;
    }

    /** As if the agent had not been heard from for an hour (past aneforge.agents.offline-after). */
    private void goneAnHourAgo(String id) {
        jdbc.sql("UPDATE agent SET last_seen_at = ? WHERE id = ?").params(OffsetDateTime.now().minusHours(1), UUID.fromString(id))
                .update();
    }

    @Test
    void anOfflineAgentIsRetiredAndListedAgainWhenItCalls() {
        String host = "retire-" + UUID.randomUUID();
        String id = registerAgent(host, "M2", List.of("reference-cpu"));

        Response online = send("DELETE", "/api/v1/agents/" + id, ADMIN, null, "X-Request-Id", "retire-online-" + id);
        assertThat(online.status()).as(online.text()).isEqualTo(409);
        assertThat(auditEvents("retire-online-" + id)).as("a refused retirement is not in the audit trail").isEmpty();
        assertThat(online.json().path("type").asString()).endsWith("agent-online");
        assertThat(online.json().path("detail").asString()).contains("aneforge.agents.offline-after").contains("drain");

        Response notAdmin = send("DELETE", "/api/v1/agents/" + id, publisher(), null);
        assertThat(notAdmin.status()).isEqualTo(403);

        goneAnHourAgo(id);
        Response retired = send("DELETE", "/api/v1/agents/" + id, ADMIN, null, "X-Request-Id", "retire-" + id);
        assertThat(retired.status()).as(retired.text()).isEqualTo(200);
        JsonNode audited = auditEvent("retire-" + id, "agent.retire", "bootstrap-admin");
        assertThat(audited.path("detail").path("agentId").asString()).isEqualTo(id);
        assertThat(audited.path("detail").path("hostName").asString()).isEqualTo(host);
        assertThat(retired.json().path("state").asString()).isEqualTo("retired");
        assertThat(listed(host, false)).as("hidden from the default list").isNull();
        assertThat(listed(host, true).path("state").asString()).isEqualTo("retired");
        assertThat(send("DELETE", "/api/v1/agents/" + id, ADMIN, null).status()).as("idempotent").isEqualTo(200);

        // An admin acting on it is not the agent being heard from: still retired.
        Response adminDrain = send("POST", "/api/v1/agents/" + id + "/drain", ADMIN, Map.of("draining", true));
        assertThat(adminDrain.status()).as(adminDrain.text()).isEqualTo(200);
        assertThat(listed(host, false)).as("an admin's call does not list it again").isNull();

        // It was not gone after all: its next call as itself lists it again.
        Response heartbeat = send("POST", "/api/v1/agents/" + id + "/drain", agentToken(), Map.of("draining", false),
                "X-Request-Id", "unretire-" + id);
        assertThat(heartbeat.status()).as(heartbeat.text()).isEqualTo(200);
        assertThat(listed(host, false)).isNotNull();
        assertThat(listed(host, false).path("state").asString()).isNotEqualTo("retired");
        // audited like the retirement it undoes, once: the next call finds it listed already; the call also ended the
        // admin's drain, its own audit event
        List<JsonNode> events = auditEvents("unretire-" + id);
        assertThat(events).extracting(e -> e.path("action").asString()).containsExactly("agent.resume", "agent.unretire");
        assertThat(events).extracting(e -> e.path("actor").asString()).containsOnly("test-agent");
        JsonNode unretired = events.get(1);
        assertThat(unretired.path("detail").path("agentId").asString()).isEqualTo(id);
        assertThat(unretired.path("detail").path("hostName").asString()).isEqualTo(host);
        assertThat(send("POST", "/api/v1/agents/" + id + "/drain", agentToken(), Map.of("draining", false),
                "X-Request-Id", "unretire-again-" + id).status()).isEqualTo(200);
        assertThat(auditEvents("unretire-again-" + id)).isEmpty();
    }

    @Test
    void aRetiredHostRegisteringAgainKeepsItsIdAndAnAgentHoldingALeaseIsNotRetired() {
        String host = "retire-lease-" + UUID.randomUUID();
        String id = registerAgent(host, "M2", List.of("reference-cpu"));
        goneAnHourAgo(id);
        assertThat(send("DELETE", "/api/v1/agents/" + id, ADMIN, null).status()).isEqualTo(200);
        assertThat(registerAgent(host, "M2", List.of("reference-cpu"))).as("same id").isEqualTo(id);
        assertThat(listed(host, false).path("state").asString()).isEqualTo("online");

        // A lease held (one of this test's own jobs, leased to it in the table): refused until it returns to the queue.
        String model = "retire-" + UUID.randomUUID().toString().substring(0, 8);
        createModel(model);
        int v = createVersion(model);
        addVariant(model, v, "M2", "18.0", "ane", "int8");
        // left a draft: its jobs exist from the variant's registration (publishing would need golden data, whose
        // ready jobs other tests' M2 agents would lease)
        long jobId = jobs(model, v).get(0).path("id").asLong();
        jdbc.sql("UPDATE job SET state = 'leased', lease_id = ?, leased_by = ?, lease_expires_at = now() + interval '1 hour' "
                + "WHERE id = ?").params(UUID.randomUUID(), UUID.fromString(id), jobId).update();
        goneAnHourAgo(id);
        try {
            Response refused = send("DELETE", "/api/v1/agents/" + id, ADMIN, null);
            assertThat(refused.status()).as(refused.text()).isEqualTo(409);
            assertThat(refused.json().path("type").asString()).endsWith("agent-holds-leases");
        } finally {
            jdbc.sql("UPDATE job SET state = 'pending', lease_id = NULL, leased_by = NULL, lease_expires_at = NULL "
                    + "WHERE leased_by = ? AND state = 'leased'").param(UUID.fromString(id)).update();
        }
        assertThat(send("DELETE", "/api/v1/agents/" + id, ADMIN, null).status()).isEqualTo(200);
    }
}
