package io.aneforge.registry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.auth.Role;
import io.aneforge.registry.job.JobTestSupport;
import io.aneforge.registry.job.Runtimes;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Handing an agent to another token locks the old token out at once, even after a lease ran meanwhile. */
class AgentIdentityCacheTest extends JobTestSupport {

    @Autowired
    PlatformTransactionManager transactions;

    @Autowired
    Agents agents;

    private int lease(String agentId, String token) {
        return send("POST", "/api/v1/agents/" + agentId + "/lease", token, null).status();
    }

    @Test
    void theOldTokenIsRefusedOnceTheHandoverCommits() {
        String oldToken = agentToken();
        Response minted = send("POST", "/api/v1/tokens", ADMIN, Map.of("name", "agent-two", "role", "agent"));
        assertThat(minted.status()).as(minted.text()).isEqualTo(201);
        String newToken = minted.json().path("token").asString();
        long newTokenId = minted.json().path("id").asLong();
        // Core ML without an Apple chip: no job matches (benchmarks need the variant's chip, accuracy jobs
        // reference-cpu), so every lease is a 204 after the identity check, whatever other tests queued
        String id = registerAgent("identity-cache-host", null, List.of(Runtimes.COREML), oldToken);
        assertThat(lease(id, oldToken)).isEqualTo(204);

        int during = new TransactionTemplate(transactions).execute(status -> {
            agents.handOver(UUID.fromString(id), newTokenId, new Caller(null, "bootstrap-admin", Role.ADMIN));
            return CompletableFuture.supplyAsync(() -> lease(id, oldToken)).join();
        });
        assertThat(during).as("not committed yet: still the old token's agent").isEqualTo(204);
        assertThat(lease(id, oldToken)).as("after the commit").isEqualTo(403);
        assertThat(lease(id, newToken)).isEqualTo(204);
    }
}
