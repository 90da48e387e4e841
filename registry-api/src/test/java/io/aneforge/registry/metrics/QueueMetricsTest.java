package io.aneforge.registry.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.registry.job.JobTestSupport;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

/**
 * The queue and fleet gauges against the registry's own answers: the jobs two versions get (one without
 * golden data, so its jobs wait) and an agent registered here move the gauges by exactly what the jobs list
 * and the agent list say.
 */
class QueueMetricsTest extends JobTestSupport {

    @Autowired
    QueueMetrics metrics;

    @Autowired
    MeterRegistry meters;

    /** Gauge values by "name|state|kind|runtime|chip" (jobs) or "name|state|chip|runtime" (agents). */
    private Map<String, Double> snapshot() {
        metrics.refreshNow();
        Map<String, Double> values = new HashMap<>();
        for (Gauge g : meters.find("aneforge.jobs").gauges()) {
            values.put("jobs|" + g.getId().getTag("state") + "|" + g.getId().getTag("kind") + "|" + g.getId().getTag("runtime")
                    + "|" + g.getId().getTag("chip"), g.value());
        }
        for (Gauge g : meters.find("aneforge.agents").gauges()) {
            values.put("agents|" + g.getId().getTag("state") + "|" + g.getId().getTag("chip") + "|"
                    + g.getId().getTag("runtime"), g.value());
        }
        return values;
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
        return after.getOrDefault(key, 0d) - before.getOrDefault(key, 0d);
    }

    @Test
    void jobsAndAgentsMoveTheGaugesByWhatTheRegistryLists() {
        Map<String, Double> before = snapshot();

        String model = "metrics-" + UUID.randomUUID().toString().substring(0, 8);
        createModel(model);
        int waiting = createVersion(model);
        addVariant(model, waiting, "M2", "18.0", "ane", "int8");
        // left a draft: publishing refuses a version without golden data, so only a draft's jobs wait for it
        int runnable = createVersion(model);
        addVariant(model, runnable, "M2", "18.0", "ane", "int8");
        setGolden(model, runnable);
        publish(model, runnable);
        String host = "metrics-host-" + UUID.randomUUID();
        registerAgent(host, "M4", List.of("reference-cpu"));

        Map<String, Double> after = snapshot();
        Map<String, Double> expected = new HashMap<>();
        for (int version : new int[] {waiting, runnable}) {
            for (JsonNode job : jobs(model, version)) {
                assertThat(job.path("state").asString()).isEqualTo("pending");
                String state = version == waiting ? "waiting" : "pending";
                String chip = job.path("requiredChip").isNull() || job.path("requiredChip").isMissingNode() ? "any"
                        : job.path("requiredChip").asString();
                expected.merge("jobs|" + state + "|" + job.path("kind").asString() + "|" + job.path("runtime").asString()
                        + "|" + chip, 1d, Double::sum);
            }
        }
        assertThat(expected).as("each version got jobs").isNotEmpty();
        expected.forEach((key, n) -> assertThat(delta(before, after, key)).as(key).isEqualTo(n));
        assertThat(delta(before, after, "agents|online|M4|reference-cpu")).isEqualTo(1d);
        assertThat(meters.find("aneforge.jobs").tag("application", "aneforge-registry").gauges())
                .as("the common tag that tells the registry's series from the worker's").isNotEmpty();
        Gauge age = meters.find("aneforge.jobs.oldest.age").tag("state", "waiting").gauge();
        assertThat(age).isNotNull();
        assertThat(age.value()).isGreaterThanOrEqualTo(0d);

        // Draining the agent moves it from online to draining.
        String agentId = agentIdOf(host);
        Response drain = send("POST", "/api/v1/agents/" + agentId + "/drain", ADMIN, Map.of("draining", true));
        assertThat(drain.status()).as(drain.text()).isEqualTo(200);
        Map<String, Double> drained = snapshot();
        assertThat(delta(after, drained, "agents|online|M4|reference-cpu")).isEqualTo(-1d);
        assertThat(delta(after, drained, "agents|draining|M4|reference-cpu")).isEqualTo(1d);
    }

    private String agentIdOf(String host) {
        Response r = get("/api/v1/agents", ADMIN);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        for (JsonNode a : r.json()) {
            if (a.path("hostName").asString().equals(host)) {
                return a.path("id").asString();
            }
        }
        throw new AssertionError("agent " + host + " not listed: " + r.text());
    }
}
