package io.aneforge.agent.registry;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.agent.bench.BenchmarkResult;
import io.aneforge.agent.bench.LatencyStats;
import io.aneforge.agent.bench.Provenance;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.agent.host.HostFacts;
import io.aneforge.io.BodyTimeout;
import io.aneforge.io.IdleTimeoutInputStream;
import io.aneforge.runtime.RuntimeOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link RegistryClient} over the registry's HTTP API ({@code /api/v1/agents/...}) with
 * {@code java.net.http} and a bearer token. Thread-safe: one instance serves the loop and the
 * heartbeat thread (HTTP/1.1 keep-alive connections are pooled by the JDK client).
 */
public final class HttpRegistryClient implements RegistryClient {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final URI base;
    private final String token;
    private final HttpClient http;
    private final Duration timeout;
    /** Which process of this host's agent this is ({@code AgentInstance}), or null: none sent. */
    private final UUID instance;
    /**
     * This client's process start: a random id sent beside {@link #instance}, recorded with each lease, so that the
     * registry hands back only leases the instance got in another (earlier) process. A registration retried after a
     * timeout, whose first copy runs late, then takes nothing away from this process. One client per agent process.
     */
    private final UUID process = UUID.randomUUID();
    /** Where the lease call out is noted for the next process on this instance slot ({@link LeaseCallLog}). */
    private final LeaseCallLog leaseCalls;

    /**
     * @param registryUrl the registry's base URL, e.g. {@code https://registry.example.com}
     * @param token a bearer token with the {@code agent} role
     * @param timeout per-request timeout (a long-polled lease adds its wait on top); also the longest wait
     *     for the bytes of a response body once its headers arrived, and for the whole body
     *     ({@link BodyTimeout#answer})
     */
    public HttpRegistryClient(URI registryUrl, String token, Duration timeout) {
        this(registryUrl, token, timeout, null);
    }

    /**
     * @param instance which process of the host's agent this is ({@code io.aneforge.agent.instance.AgentInstance}),
     *     sent at registration ({@code instanceId}) and with every lease call ({@code &instance=}): the registry hands
     *     the leases of an instance back when that instance registers again (a restart). Null sends neither. A
     *     registry from before it ignores both (an unknown field of a request body, an unknown query parameter), so
     *     it is sent to any registry, as {@code goldenFormat} is.
     */
    public HttpRegistryClient(URI registryUrl, String token, Duration timeout, UUID instance) {
        this(registryUrl, token, timeout, instance, LeaseCallLog.NONE);
    }

    /**
     * @param leaseCalls where each lease call is noted before it is sent and forgotten once answered (the agent's
     *     instance slot, {@code AgentInstance}), so that the next process on the slot can release a call this one
     *     never saw answered
     */
    public HttpRegistryClient(URI registryUrl, String token, Duration timeout, UUID instance, LeaseCallLog leaseCalls) {
        this.instance = instance;
        this.leaseCalls = Objects.requireNonNull(leaseCalls, "leaseCalls");
        String s = Objects.requireNonNull(registryUrl, "registryUrl").toString();
        this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("the registry token is empty: set aneforge.agent.registry.token"
                    + " (env ANEFORGE_AGENT_REGISTRY_TOKEN) to a token with the agent role");
        }
        this.token = token;
        this.timeout = timeout;
        // Responses are small JSON bodies read into a byte array, so the client's own I/O thread can
        // complete them: with the default executor every call hops across two more threads, which
        // costs more CPU than the call itself when a queue is busy (bench/queue.sh: about half the
        // client's CPU per job).
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .executor(Runnable::run).build();
    }

    @Override
    public AgentRegistration register(HostFacts host) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("hostName", host.hostName());
        body.put("osName", host.osName());
        body.put("osVersion", host.osVersion());
        body.put("osBuild", host.osBuild());
        body.put("arch", host.arch());
        body.put("cpuBrand", host.cpuBrand());
        body.put("memoryBytes", host.memoryBytes());
        body.put("chip", host.chip());
        body.put("runtimes", host.runtimes());
        // The newest golden data format this agent reads: the registry leases it no job whose golden data is newer.
        body.put("goldenFormat", GoldenOutputsCodec.VERSION);
        if (instance != null) {
            // Registering says this instance holds no lease (a process registers once, before it leases): the
            // registry hands back what an earlier process with this id still held.
            body.put("instanceId", instance.toString());
            body.put("processId", process.toString());
        }
        JsonNode a = call("POST", "/api/v1/agents", body, timeout).json();
        return new AgentRegistration(a.path("id").asString(), Duration.ofMillis(a.path("heartbeatIntervalMs").asLong()),
                ids(a.path("handedBack").path("released")), ids(a.path("handedBack").path("failed")));
    }

    @Override
    public HeartbeatAck heartbeat(String agentId, List<String> heldLeaseIds) {
        // goldenFormat on every heartbeat too: a registry migrated to V26 after this agent registered has it as 1
        JsonNode a = call("POST", "/api/v1/agents/" + agentId + "/heartbeat",
                Map.of("leaseIds", heldLeaseIds, "goldenFormat", GoldenOutputsCodec.VERSION), timeout).json();
        List<String> lost = new ArrayList<>();
        a.path("lostLeaseIds").forEach(n -> lost.add(n.asString()));
        return new HeartbeatAck(Instant.parse(a.path("extendedUntil").asString()), lost, a.path("draining").asBoolean());
    }

    @Override
    public Optional<JobLease> lease(String agentId, Duration wait) {
        String seconds = String.format(Locale.ROOT, "%.3f", wait.toMillis() / 1000.0);
        // A fresh id per call, kept by the registry with the lease it grants: should the answer be unreadable (a
        // proxy's HTML page names no lease), the agent can still release that lease by this id.
        String request = UUID.randomUUID().toString();
        // Noted before it goes out: should this process end while the call waits in the long poll, the next process
        // on the instance slot releases it by this id.
        leaseCalls.sending(agentId, request);
        Answer a;
        try {
            a = call("POST", "/api/v1/agents/" + agentId + "/lease?wait=" + seconds + "&request=" + request
                    + (instance == null ? "" : "&instance=" + instance + "&process=" + process), null, timeout.plus(wait));
        } catch (RegistryException e) {
            // No answer, or a proxy's 5xx (the registry's own 5xx problem ends its call without a lease): the registry
            // may have granted a lease, now or, while the call is still on its way or in its long poll, later.
            // A refused connection or a connect timeout never reached the registry: nothing can have been granted.
            if (e.status() == -1 && neverSent(e)) {
                leaseCalls.answered(request);
                throw e;
            }
            if (e.status() == -1 || (e.status() >= 500 && e.problem().isEmpty())) {
                // The note stays until the loop has kept the call's release in the cache directory, which then covers
                // the call (releaseKept); should the loop not get that far, the next process releases it by the note.
                throw new LeaseAnswerLostException(e, request, Instant.now().plus(wait).plus(timeout),
                        () -> leaseCalls.releaseKept(request));
            }
            leaseCalls.answered(request); // the registry's own refusal: the call is over, nothing granted
            throw e;
        }
        // Answered: from here on a lease granted for the call is this process's, to run or to release; should the
        // process end running it, its registration hands it back (counted), not a release of this note.
        leaseCalls.answered(request);
        if (a.status() == 204) {
            return Optional.empty();
        }
        JsonNode json;
        try {
            json = a.json();
        } catch (JacksonException e) {
            throw new UnreadableLeaseException("lease answer is not JSON (" + e.getOriginalMessage() + "); the answer: "
                    + excerpt(a.body()), request, null, null, e);
        }
        try {
            return Optional.of(parseLease(json));
        } catch (RuntimeException e) {
            // The registry leased the job to us all the same: hand back the ids if they can be read, so the
            // lease can be released rather than left to expire at the cost of an attempt.
            throw new UnreadableLeaseException("lease answer not understood (" + e + "); the answer: "
                    + excerpt(a.body()), request, id(json, "leaseId"), id(json, "jobId"), e);
        }
    }

    /**
     * Whether a call failed before its request could reach the registry: the connection was refused or not set up
     * within the connect timeout. Anything later (a reset, a timeout waiting for the answer) may have been applied.
     */
    static boolean neverSent(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.http.HttpConnectTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** The job ids of a list (absent: none, as from a registry before instances). */
    private static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        list.forEach(n -> ids.add(n.asString()));
        return ids;
    }

    /** A string or number field as text, or null when absent or of another kind. */
    private static String id(JsonNode json, String field) {
        JsonNode n = json.path(field);
        return n.isString() || n.isNumber() ? n.asString() : null;
    }

    private static String excerpt(byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
        return s.length() <= 300 ? s : s.substring(0, 297) + "...";
    }

    JobLease parseLease(JsonNode l) {
        JobLease.Kind kind = JobLease.Kind.valueOf(l.path("kind").asString().toUpperCase(Locale.ROOT));
        JsonNode p = l.path("protocol");
        BenchmarkProtocol protocol = new BenchmarkProtocol(p.path("warmupIterations").asInt(),
                p.path("timedIterations").asInt(), Duration.ofMillis(p.path("maxDurationMs").asLong()));
        return new JobLease(l.path("leaseId").asString(), l.path("jobId").asString(), l.path("attempt").asInt(), kind,
                l.path("model").asString(), l.path("version").asInt(), l.path("variant").path("id").asString(),
                blob(l.path("artifact")), l.path("runtime").asString(),
                new RuntimeOptions(l.path("computeUnits").asString(), false, 0), protocol, blob(l.path("goldenInputs")),
                blob(l.path("goldenOutputs")), Instant.parse(l.path("expiresAt").asString()));
    }

    private ArtifactRef blob(JsonNode b) {
        // The registry writes blob URLs path-absolute (never prefixed with its public base URL), resolved here
        // against the registry URL this agent uses; an absolute URL (an older registry's) is taken as it is.
        return new ArtifactRef(b.path("digest").asString(), b.path("size").asLong(), resolve(b.path("url").asString()));
    }

    URI resolve(String url) {
        return url.startsWith("/") ? URI.create(base + url) : URI.create(url);
    }

    @Override
    public void report(String agentId, JobReport r) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("leaseId", r.leaseId());
        body.put("outcome", r.outcome().name().toLowerCase(Locale.ROOT));
        body.put("failure", r.failure());
        if (r.provenance() != null) {
            body.put("provenance", provenance(r.provenance()));
        }
        BenchmarkResult b = r.benchmark();
        if (b != null) {
            body.put("protocol", Map.of("warmupIterations", b.protocol().warmupIterations(),
                    "timedIterations", b.protocol().timedIterations(),
                    "maxDurationMs", b.protocol().maxDuration().toMillis()));
            LatencyStats l = b.latency();
            Map<String, Object> latency = new LinkedHashMap<>();
            latency.put("n", l.n());
            latency.put("minMs", l.minMs());
            latency.put("p50Ms", l.p50Ms());
            latency.put("p90Ms", l.p90Ms());
            latency.put("p99Ms", l.p99Ms());
            latency.put("maxMs", l.maxMs());
            latency.put("meanMs", l.meanMs());
            latency.put("stddevMs", l.stddevMs());
            Map<String, Object> bench = new LinkedHashMap<>();
            bench.put("loadMs", b.loadMs());
            bench.put("firstPredictionMs", b.firstPredictionMs());
            bench.put("warmupIterationsRun", b.warmupIterationsRun());
            bench.put("latency", latency);
            bench.put("stoppedByMaxDuration", b.stoppedByMaxDuration());
            bench.put("peakResidentBytes", b.peakResidentBytes());
            body.put("benchmark", bench);
        }
        if (!r.fidelity().isEmpty()) {
            body.put("fidelity", r.fidelity());
        }
        call("POST", "/api/v1/agents/" + agentId + "/jobs/" + r.jobId() + "/result", body, timeout);
    }

    private static Map<String, Object> provenance(Provenance p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hostName", p.host().hostName());
        m.put("osName", p.host().osName());
        m.put("osVersion", p.host().osVersion());
        m.put("osBuild", p.host().osBuild());
        m.put("chip", p.host().chip());
        m.put("runtime", p.runtimeId());
        m.put("runtimeVersion", p.runtimeVersion());
        m.put("computeUnits", p.options().computeUnits());
        m.put("fp16Activations", p.options().fp16Activations());
        m.put("threads", p.options().threads());
        m.put("artifactDigest", p.artifactDigest());
        m.put("startedAt", p.startedAt().toString());
        return m;
    }

    @Override
    public HandBack release(String agentId, String jobId, String leaseId, String reason, boolean trouble) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("leaseId", leaseId);
        body.put("reason", reason);
        if (trouble) {
            body.put("trouble", true);
        }
        return handBack(call("POST", "/api/v1/agents/" + agentId + "/jobs/" + jobId + "/release", body, timeout), jobId);
    }

    @Override
    public HandBack releaseLeaseRequest(String agentId, String request, String reason, boolean trouble) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("reason", reason);
        if (!trouble) {
            // Only when false: absent is trouble, as agents before the field sent, and a registry before it ignores it.
            body.put("trouble", false);
        }
        return handBack(call("POST", "/api/v1/agents/" + agentId + "/lease-requests/" + request + "/release", body,
                timeout), null);
    }

    /**
     * The registry's answer to a release. A registry before V13 answers 204: released, but it ignored
     * {@code trouble} and counted nothing ({@link HandBack#counted()} false), so the agent bounds the job's
     * hand-backs itself.
     */
    private static HandBack handBack(Answer a, String jobId) {
        if (a.status() == 204 || a.body().length == 0) {
            return HandBack.uncounted(jobId);
        }
        JsonNode n = a.json();
        String job = id(n, "jobId");
        String failure = n.path("failure").isString() ? n.path("failure").asString() : null;
        return new HandBack(job == null ? jobId : job, n.path("outcome").asString(HandBack.RELEASED), failure);
    }

    @Override
    public void drain(String agentId, boolean draining) {
        call("POST", "/api/v1/agents/" + agentId + "/drain", Map.of("draining", draining), timeout);
    }

    private record Answer(int status, byte[] body) {
        JsonNode json() {
            return JSON.readTree(body);
        }
    }

    private Answer call(String method, String path, Object body, Duration requestTimeout) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(requestTimeout)
                .header("Authorization", "Bearer " + token).header("Accept", "application/json");
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        }
        int status;
        byte[] bytes;
        try {
            // The request timeout ends when the headers arrive; the body is read within its own timeout (no gap
            // and no whole body longer than it) so a registry or proxy that stalls or trickles mid-body fails the
            // call instead of hanging the agent.
            HttpResponse<InputStream> streamed = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            status = streamed.statusCode();
            bytes = IdleTimeoutInputStream.readAll(streamed.body(), BodyTimeout.answer(timeout), base + path);
        } catch (IOException e) {
            throw new RegistryException(method + " " + base + path + " failed: " + e, -1, true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(method + " " + base + path + " interrupted", -1, true, e);
        }
        if (status >= 200 && status < 300) {
            return new Answer(status, bytes);
        }
        String slug = "";
        String detail = new String(bytes, StandardCharsets.UTF_8);
        try {
            JsonNode problem = JSON.readTree(bytes);
            String type = problem.path("type").asString("");
            slug = type.substring(type.lastIndexOf('/') + 1);
            detail = problem.path("detail").asString(detail);
        } catch (JacksonException | IllegalArgumentException notProblemJson) {
            // keep the raw body as the detail
        }
        String message = method + " " + path + " answered HTTP " + status + (slug.isEmpty() ? "" : " " + slug) + ": "
                + detail + (status == 401 ? " (check aneforge.agent.registry.token / ANEFORGE_AGENT_REGISTRY_TOKEN)" : "");
        if (status == 403 && slug.equals("lease-not-held")) {
            throw new LeaseLostException(message);
        }
        throw new RegistryException(message, status, slug, status >= 500 || status == 429, null);
    }
}
