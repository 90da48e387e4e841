package io.aneforge.registry.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.agent.loop.AgentLoop;
import io.aneforge.registry.RegistryTestBase;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;

/** Helpers for job tests: agents, variants whose jobs they lease, leases among other tests' jobs, valid reports. */
public abstract class JobTestSupport extends RegistryTestBase {

    /** How many leases {@link #leaseReleasingOthers} and {@link #leaseFailingOthers} take before they give up. */
    private static final int LEASES_TO_FIND_A_JOB = 50;

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
        return send("POST", "/api/v1/agents", token, registrationBody(host, chip, runtimes, goldenFormat));
    }

    /**
     * The body of {@code POST /api/v1/agents} for a macOS 15.1 (24B83) arm64 host with {@code chip} (null: none) and
     * {@code runtimes}, reading golden data up to {@code goldenFormat} (null: the field left out, as older agents do).
     * A mutable map in the agent's field order: a test changes a fact (osBuild) or adds one (instanceId).
     */
    protected static Map<String, Object> registrationBody(String host, String chip, List<String> runtimes,
                                                          Integer goldenFormat) {
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
        return body;
    }

    /** A variant {@link #newVersionWithVariant} registered: its version of the model and its id. */
    protected record RegisteredVariant(int version, long id) {}

    /**
     * A new {@code model} whose first version has one fp16 {@code ane} variant for iOS 18 on {@code chip}: a package
     * {@code seqLen} tokens long (salted with the model's name), benchmarked on {@code computeUnits} (null: the field
     * left out, the registry's default). Without golden data its jobs are queued but not leased yet.
     */
    protected RegisteredVariant newVersionWithVariant(String model, String chip, int seqLen, List<String> computeUnits) {
        createModel(model);
        int v = createVersion(model);
        Map<String, Object> body = new HashMap<>(Map.of("chip", chip, "deploymentTarget", "18.0", "layout", "ane",
                "precision", "fp16", "seqLen", seqLen, "digest", upload(mlpackage(model, seqLen))));
        if (computeUnits != null) body.put("computeUnits", computeUnits);
        Response r = send("POST", "/api/v1/models/" + model + "/versions/" + v + "/variants", publisher(), body);
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return new RegisteredVariant(v, r.json().path("id").asLong());
    }

    /** As {@link #newVersionWithVariant}, with golden data set: its jobs can be leased. */
    protected RegisteredVariant leasableVariant(String model, String chip, int seqLen, List<String> computeUnits) {
        RegisteredVariant registered = newVersionWithVariant(model, chip, seqLen, computeUnits);
        setGolden(model, registered.version());
        return registered;
    }

    protected Response lease(String agentId) {
        return send("POST", "/api/v1/agents/" + agentId + "/lease", agentToken(), null);
    }

    protected JsonNode jobs(String model, int version) {
        Response r = get("/api/v1/models/" + model + "/versions/" + version + "/jobs", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    /** The job {@code jobId} as the version's job list shows it. */
    protected JsonNode job(String model, int version, long jobId) {
        for (JsonNode j : jobs(model, version)) {
            if (j.path("id").asLong() == jobId) return j;
        }
        throw new AssertionError("job " + jobId + " is not listed for " + model + " v" + version);
    }

    /** The version's benchmark job, for a version with one variant on one compute unit. */
    protected JsonNode benchmarkJob(String model, int version) {
        for (JsonNode j : jobs(model, version)) if (j.path("kind").asString().equals("benchmark")) return j;
        throw new AssertionError("no benchmark job: " + jobs(model, version));
    }

    /**
     * Leases as {@code agent} until it gets a job of {@code model}, each call with the query {@code leaseQuery} gives
     * ({@code request=…}, and an agent process's {@code instance=…}): other tests' leftovers on the same chip (older,
     * so leased first) are held meanwhile and released afterwards, without trouble, so they spend no attempt.
     */
    protected JsonNode leaseReleasingOthers(String agent, String model, Supplier<String> leaseQuery) {
        return leaseReleasingOthers(agent, model, leaseQuery, lease -> {});
    }

    /**
     * As {@link #leaseReleasingOthers(String, String, Supplier)}, handing the lease to {@code whenGranted} before the
     * leftovers are released: a test that keeps short leases alive starts on it there, not after those calls.
     */
    protected JsonNode leaseReleasingOthers(String agent, String model, Supplier<String> leaseQuery,
                                            Consumer<JsonNode> whenGranted) {
        List<JsonNode> leftovers = new ArrayList<>();
        try {
            for (int i = 0; i < LEASES_TO_FIND_A_JOB; i++) {
                Response r = send("POST", "/api/v1/agents/" + agent + "/lease?" + leaseQuery.get(), agentToken(), null);
                assertThat(r.status()).as(r.text()).isEqualTo(200);
                if (r.json().path("model").asString().equals(model)) {
                    whenGranted.accept(r.json());
                    return r.json();
                }
                leftovers.add(r.json());
            }
            throw new AssertionError("no job of " + model);
        } finally {
            for (JsonNode l : leftovers) {
                send("POST", "/api/v1/agents/" + agent + "/jobs/" + l.path("jobId").asLong() + "/release", agentToken(),
                        Map.of("leaseId", l.path("leaseId").asString()));
            }
        }
    }

    /** {@link #leaseFailingOthers(String, String, String, Predicate, Supplier)} of a job of {@code model}. */
    protected JsonNode leaseFailingOthers(String agent, String host, String model) {
        return leaseFailingOthers(agent, host, "a job of " + model,
                lease -> lease.path("model").asString().equals(model), () -> lease(agent));
    }

    /**
     * Leases as {@code agent} (run on {@code host}) through {@code leaseCall} until the lease is {@code wanted}
     * (described by {@code wantedJob}): other tests' leftovers on the chip, leased first, are reported failed
     * ("consumed by" the host), so they leave the queue for good.
     */
    protected JsonNode leaseFailingOthers(String agent, String host, String wantedJob, Predicate<JsonNode> wanted,
                                          Supplier<Response> leaseCall) {
        for (int i = 0; i < LEASES_TO_FIND_A_JOB; i++) {
            Response r = leaseCall.get();
            assertThat(r.status()).as(wantedJob + " is queued for this agent's chip").isEqualTo(200);
            if (wanted.test(r.json())) return r.json();
            assertThat(report(agent, r.json(), Map.of("leaseId", r.json().path("leaseId").asString(),
                    "outcome", "failed", "failure", "consumed by " + host)).status()).isEqualTo(201);
        }
        throw new AssertionError(wantedJob + " not leased in " + LEASES_TO_FIND_A_JOB + " leases");
    }

    /** Waits up to 30 s for {@code condition}, failing the test naming {@code what} when it does not come. */
    protected static void waitFor(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what + " in time").isLessThan(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    protected JsonNode results(String model, int version) {
        Response r = get("/api/v1/models/" + model + "/versions/" + version + "/results", reader());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    /** Whether a job of the version has a succeeded result. */
    protected boolean succeeded(String model, int version) {
        return results(model, version).valueStream().anyMatch(r -> r.path("outcome").asString().equals("succeeded"));
    }

    /**
     * Halts an agent loop for good and drains its agent: a lease long poll the halted loop left in flight is still
     * waiting in the registry, and would otherwise lease the next test's first job on this chip to an agent that
     * is gone (the job then sits leased until its lease runs out). A draining agent gets no job.
     */
    protected void haltAndDrain(AgentLoop loop) {
        loop.halt();
        String id = loop.agentId();
        if (id != null) {
            Response drained = send("POST", "/api/v1/agents/" + id + "/drain", agentToken(), Map.of("draining", true));
            assertThat(drained.status()).as(drained.text()).isEqualTo(200);
        }
    }

    /**
     * A cleanup step declared as a try-with-resources resource ({@code try (Cleanup drained = () -> haltAndDrain(loop))}):
     * unlike a step in a finally block, a step that fails (haltAndDrain asserts the drain's answer) neither skips the
     * steps declared before it, which try-with-resources still closes, nor masks the test's own failure, to which it is
     * added as suppressed. An agent loop left running would lease later test classes' jobs on its chip.
     */
    @FunctionalInterface
    protected interface Cleanup extends AutoCloseable {
        @Override
        void close();
    }

    /** The request id a lease call or a release by request names in its query ({@code request=…}), or null. */
    protected static String requestIdOf(URI uri) {
        String query = uri.getQuery();
        int at = query == null ? -1 : query.indexOf("request=");
        return at < 0 ? null : query.substring(at + "request=".length()).split("&")[0];
    }

    protected Response report(String agentId, JsonNode lease, Map<String, Object> body) {
        return send("POST", "/api/v1/agents/" + agentId + "/jobs/" + lease.path("jobId").asLong() + "/result",
                agentToken(), body);
    }

    /** A report that passes every rule for {@code lease} run on {@code host}. */
    protected static Map<String, Object> validReport(JsonNode lease, String host) {
        Map<String, Object> provenance = ordered("hostName", host, "osName", "macOS", "osVersion", "15.1",
                "osBuild", "24B83", "chip", CHIPS.get(host), "runtime", lease.path("runtime").asString(),
                "runtimeVersion", "24B83", "computeUnits", lease.path("computeUnits").asString(),
                "fp16Activations", false, "threads", 0, "artifactDigest", lease.path("artifact").path("digest").asString(),
                "startedAt", "2026-11-26T01:00:00Z");
        Map<String, Object> fidelity = ordered("positions", 4, "hiddenSize", 384, "cosineMean", 0.99995,
                "cosineMin", 0.9999, "cosinePooled", 0.99998, "maxAbsError", 0.01, "meanAbsError", 0.001, "psnrDb", 60.0);
        Map<String, Object> body = ordered("leaseId", lease.path("leaseId").asString(), "outcome", "succeeded",
                "provenance", provenance, "fidelity", Map.of("last_hidden_state", fidelity));
        if (lease.path("kind").asString().equals("benchmark")) {
            body.put("protocol", Map.of("warmupIterations", 10, "timedIterations", 100, "maxDurationMs", 300000));
            Map<String, Object> latency = ordered("n", 100, "minMs", 1.0, "p50Ms", 1.2, "p90Ms", 1.5, "p99Ms", 2.0,
                    "maxMs", 2.5, "meanMs", 1.3, "stddevMs", 0.2);
            body.put("benchmark", ordered("loadMs", 120.0, "firstPredictionMs", 30.0, "warmupIterationsRun", 10,
                    "latency", latency, "stoppedByMaxDuration", false, "peakResidentBytes", 123456789L));
        }
        return body;
    }

    /**
     * A mutable map of {@code keysAndValues} (key, value, key, value, …) in that order, nulls allowed: a JSON body as
     * the agent writes it (Map.of keeps no order and refuses null).
     */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }
}
