package io.aneforge.registry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.job.JobTestSupport;
import io.aneforge.registry.job.Runtimes;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

/**
 * A registration may offer only runtimes the registry queues jobs for: an unknown id (a typo, a runtime of a newer
 * agent) is a 400 naming it and the known ones, and changes nothing, where it used to register an agent no job
 * would ever match.
 */
class AgentRuntimeTest extends JobTestSupport {

    @Autowired
    JdbcClient jdbc;

    private Response register(String host, List<String> runtimes) {
        return sendRegistration(host, null, runtimes, agentToken());
    }

    @Test
    void anUnknownRuntimeIsRefusedNamingItAndTheKnownOnes() {
        Response r = register("unknown-runtime-host", List.of(Runtimes.REFERENCE_CPU, "refrence-cpu"));
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        assertThat(r.problem()).isEqualTo("unknown-runtime");
        assertThat(r.json().path("detail").asString()).contains("'refrence-cpu'", "known: [coreml, reference-cpu]",
                "ANEFORGE_AGENT_RUNTIMES");
        assertThat(r.json().path("runtime").asString()).isEqualTo("refrence-cpu");
        List<String> known = new java.util.ArrayList<>();
        for (JsonNode k : r.json().path("knownRuntimes")) known.add(k.asString());
        assertThat(known).containsExactly("coreml", "reference-cpu");
        assertThat(jdbc.sql("SELECT count(*) FROM agent WHERE host_name = 'unknown-runtime-host'").query(Long.class).single())
                .as("nothing registered").isZero();
    }

    @Test
    void aKnownHostOfferingAnUnknownRuntimeKeepsWhatItHad() {
        Response first = register("known-then-unknown-host", List.of(Runtimes.REFERENCE_CPU));
        assertThat(first.status()).as(first.text()).isEqualTo(200);
        Response again = register("known-then-unknown-host", List.of("onnxruntime"));
        assertThat(again.status()).as(again.text()).isEqualTo(400);
        assertThat(again.problem()).isEqualTo("unknown-runtime");
        assertThat(jdbc.sql("SELECT array_to_string(runtimes, ',') FROM agent WHERE host_name = 'known-then-unknown-host'")
                .query(String.class).single()).isEqualTo(Runtimes.REFERENCE_CPU);
    }

    @Test
    void everyRuntimeTheRegistryQueuesJobsForIsAccepted() {
        Response r = register("all-runtimes-host", Runtimes.KNOWN);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().path("runtimes").toString()).isEqualTo("[\"coreml\",\"reference-cpu\"]");
    }
}
