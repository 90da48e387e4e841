package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.registry.RegistryTestBase;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** Helpers for job tests: agents, golden blobs, valid reports. */
public abstract class JobTestSupport extends RegistryTestBase {

    /** The chip each test agent registered with, by host: a valid report names the agent's own chip. */
    private static final Map<String, String> CHIPS = new java.util.concurrent.ConcurrentHashMap<>();

    protected String agentToken() {
        return token("agent");
    }

    protected String registerAgent(String host, String chip, List<String> runtimes) {
        return registerAgent(host, chip, runtimes, agentToken());
    }

    protected String registerAgent(String host, String chip, List<String> runtimes, String token) {
        Response r = sendRegistration(host, chip, runtimes, token);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        if (chip != null) CHIPS.put(host, chip);
        return r.json().path("id").asString();
    }

    /**
     * {@code POST /api/v1/agents} for a macOS host with {@code chip} (null: none) and {@code runtimes}, as answered;
     * it reads the newest golden data format, as this release's agent says.
     */
    protected Response sendRegistration(String host, String chip, List<String> runtimes, String token) {
        return sendRegistration(host, chip, runtimes, token, GoldenOutputsCodec.VERSION);
    }

    /** As above, saying it reads golden data up to {@code goldenFormat} (null: the field left out, as older agents do). */
    protected Response sendRegistration(String host, String chip, List<String> runtimes, String token, Integer goldenFormat) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("hostName", host);
        body.put("osName", "macOS");
        body.put("osVersion", "15.1");
        body.put("osBuild", "24B83");
        body.put("arch", "arm64");
        body.put("cpuBrand", chip == null ? "Apple M1" : "Apple " + chip);
        body.put("memoryBytes", 17179869184L);
        body.put("chip", chip);
        body.put("runtimes", runtimes);
        if (goldenFormat != null) body.put("goldenFormat", goldenFormat);
        return send("POST", "/api/v1/agents", token, body);
    }

    protected Response lease(String agentId) {
        return send("POST", "/api/v1/agents/" + agentId + "/lease", agentToken(), null);
    }

    protected JsonNode jobs(String model, int version) {
        Response r = get("/api/v1/models/" + model + "/versions/" + version + "/jobs", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    protected JsonNode results(String model, int version) {
        Response r = get("/api/v1/models/" + model + "/versions/" + version + "/results", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    protected Response report(String agentId, JsonNode lease, Map<String, Object> body) {
        return send("POST", "/api/v1/agents/" + agentId + "/jobs/" + lease.path("jobId").asLong() + "/result",
                agentToken(), body);
    }

    /** A report that passes every rule for {@code lease} run on {@code host}. */
    protected static Map<String, Object> validReport(JsonNode lease, String host) {
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("hostName", host);
        provenance.put("osName", "macOS");
        provenance.put("osVersion", "15.1");
        provenance.put("osBuild", "24B83");
        provenance.put("chip", CHIPS.get(host));
        provenance.put("runtime", lease.path("runtime").asString());
        provenance.put("runtimeVersion", "24B83");
        provenance.put("computeUnits", lease.path("computeUnits").asString());
        provenance.put("fp16Activations", false);
        provenance.put("threads", 0);
        provenance.put("artifactDigest", lease.path("artifact").path("digest").asString());
        provenance.put("startedAt", "2026-11-26T01:00:00Z");
        Map<String, Object> fidelity = new LinkedHashMap<>();
        fidelity.put("positions", 4);
        fidelity.put("hiddenSize", 384);
        fidelity.put("cosineMean", 0.99995);
        fidelity.put("cosineMin", 0.9999);
        fidelity.put("cosinePooled", 0.99998);
        fidelity.put("maxAbsError", 0.01);
        fidelity.put("meanAbsError", 0.001);
        fidelity.put("psnrDb", 60.0);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("leaseId", lease.path("leaseId").asString());
        body.put("outcome", "succeeded");
        body.put("provenance", provenance);
        body.put("fidelity", Map.of("last_hidden_state", fidelity));
        if (lease.path("kind").asString().equals("benchmark")) {
            body.put("protocol", Map.of("warmupIterations", 10, "timedIterations", 100, "maxDurationMs", 300000));
            Map<String, Object> latency = new LinkedHashMap<>();
            latency.put("n", 100);
            latency.put("minMs", 1.0);
            latency.put("p50Ms", 1.2);
            latency.put("p90Ms", 1.5);
            latency.put("p99Ms", 2.0);
            latency.put("maxMs", 2.5);
            latency.put("meanMs", 1.3);
            latency.put("stddevMs", 0.2);
            Map<String, Object> bench = new LinkedHashMap<>();
            bench.put("loadMs", 120.0);
            bench.put("firstPredictionMs", 30.0);
            bench.put("warmupIterationsRun", 10);
            bench.put("latency", latency);
            bench.put("stoppedByMaxDuration", false);
            bench.put("peakResidentBytes", 123456789L);
            body.put("benchmark", bench);
        }
        return body;
    }
}
