package io.aneforge.registry.job;

import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.agent.Agent;
import io.aneforge.registry.agent.Agents;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.blob.Blobs;
import io.aneforge.registry.job.JobRecords.Benchmark;
import io.aneforge.registry.job.JobRecords.BlobRef;
import io.aneforge.registry.job.JobRecords.Fidelity;
import io.aneforge.registry.job.JobRecords.Golden;
import io.aneforge.registry.job.JobRecords.HeartbeatAck;
import io.aneforge.registry.job.JobRecords.JobView;
import io.aneforge.registry.job.JobRecords.Latency;
import io.aneforge.registry.job.JobRecords.LeaseView;
import io.aneforge.registry.job.JobRecords.ProtocolReport;
import io.aneforge.registry.job.JobRecords.ProtocolView;
import io.aneforge.registry.job.JobRecords.Provenance;
import io.aneforge.registry.job.JobRecords.Report;
import io.aneforge.registry.job.JobRecords.ResultView;
import io.aneforge.registry.job.JobRecords.VariantFacts;
import io.aneforge.registry.model.ModelRecords.VersionRef;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.problem.ApiProblem;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The job queue: leasing (row-locked with SKIP LOCKED, so concurrent agents never block each
 * other nor share a job), heartbeats that extend leases, releases, and reports that are
 * accepted only from the lease holder and stored once per (job, attempt).
 */
@Service
public class Jobs {

    private final JobRepository jobs;
    private final JobResultRepository results;
    private final Agents agents;
    private final Models models;
    private final Blobs blobs;
    private final JdbcClient jdbc;
    private final JsonMapper json;
    private final JobProperties props;
    private final LeaseSignal signal;
    private final String baseUrl;
    private final Clock clock = Clock.systemUTC();

    Jobs(JobRepository jobs, JobResultRepository results, Agents agents, Models models, Blobs blobs, JdbcClient jdbc,
         JsonMapper json, JobProperties props, LeaseSignal signal, RegistryProperties registry) {
        this.jobs = jobs;
        this.results = results;
        this.agents = agents;
        this.models = models;
        this.blobs = blobs;
        this.jdbc = jdbc;
        this.json = json;
        this.props = props;
        this.signal = signal;
        this.baseUrl = registry.publicBaseUrl() == null ? "" : registry.publicBaseUrl();
    }

    /** One job for this agent, or empty when none matches (or the agent is draining). */
    @Transactional
    public Optional<LeaseView> lease(UUID agentId, Caller caller) {
        Agent agent = agents.acting(agentId, caller);
        if (agent.draining()) return Optional.empty();
        Instant now = clock.instant();
        Optional<Job> next = jobs.lockNextFor(agentId, now);
        if (next.isEmpty()) return Optional.empty();
        Job job = next.get();
        job.lease(UUID.randomUUID(), agentId, now.plus(agents.fleet().leaseDuration()));
        // A lease lost in a database crash costs at most a duplicate run (the loser's report gets a
        // 403), so leases need not wait for the WAL flush; results do (their transactions keep it).
        jdbc.sql("SET LOCAL synchronous_commit TO OFF").update();
        return Optional.of(leaseView(job));
    }

    private record LeaseFacts(String model, int version, VariantFacts variant, BlobRef artifact, BlobRef goldenInputs,
                              BlobRef goldenOutputs) {}

    private LeaseView leaseView(Job job) {
        LeaseFacts f = jdbc.sql("""
                        SELECT m.name, mv.version, v.id, v.chip, v.deployment_target, v.layout, v.precision, v.block_size,
                               v.seq_len, v.blob_digest, v.size, gi.digest, gi.size, go.digest, go.size
                          FROM variant v JOIN model_version mv ON mv.id = v.version_id JOIN model m ON m.id = mv.model_id
                          JOIN blob gi ON gi.digest = mv.golden_inputs_digest JOIN blob go ON go.digest = mv.golden_digest
                         WHERE v.id = ?""")
                .param(job.variantId())
                .query((rs, i) -> new LeaseFacts(rs.getString(1), rs.getInt(2), variantFacts(rs, 3),
                        blobRef(rs.getString(10), rs.getLong(11)), blobRef(rs.getString(12), rs.getLong(13)),
                        blobRef(rs.getString(14), rs.getLong(15))))
                .single();
        JobProperties.Protocol p = props.protocol();
        return new LeaseView(job.leaseId(), job.id(), job.attempts(), job.kind(), job.runtime(), job.computeUnits(),
                job.leaseExpiresAt(), f.model(), f.version(), f.variant(), f.artifact(), f.goldenInputs(),
                f.goldenOutputs(), new ProtocolView(p.warmupIterations(), p.timedIterations(), p.maxDuration().toMillis()));
    }

    private static VariantFacts variantFacts(ResultSet rs, int from) throws SQLException {
        int block = rs.getInt(from + 5);
        Integer blockSize = rs.wasNull() ? null : block;
        return new VariantFacts(rs.getLong(from), rs.getString(from + 1), rs.getString(from + 2), rs.getString(from + 3),
                rs.getString(from + 4), blockSize, rs.getInt(from + 6));
    }

    private BlobRef blobRef(String hex, long size) {
        return new BlobRef("sha256:" + hex, size, baseUrl + "/api/v1/blobs/sha256:" + hex);
    }

    /** Extends the named leases this agent still holds; the others come back as lost. */
    @Transactional
    public HeartbeatAck heartbeat(UUID agentId, List<UUID> leaseIds, Caller caller) {
        Agent agent = agents.acting(agentId, caller);
        Instant expires = clock.instant().plus(agents.fleet().leaseDuration());
        List<UUID> named = leaseIds == null ? List.of() : leaseIds.stream().filter(Objects::nonNull).distinct().toList();
        if (named.isEmpty()) return new HeartbeatAck(expires, List.of(), agent.draining());
        jobs.extend(agentId, named, expires);
        Set<String> held = new HashSet<>(jobs.held(agentId, named));
        List<UUID> lost = named.stream().filter(l -> !held.contains(l.toString())).toList();
        return new HeartbeatAck(expires, lost, agent.draining());
    }

    /** Hands a leased job back to the queue without spending an attempt (a draining agent). */
    @Transactional
    public void release(UUID agentId, long jobId, UUID leaseId, Caller caller) {
        agents.acting(agentId, caller);
        Job job = jobs.lock(jobId).orElseThrow(() -> jobNotFound(jobId));
        requireHolder(job, agentId, leaseId);
        job.release();
        signal.afterCommit();
    }

    public record Reported(ResultView result, boolean created) {}

    /**
     * Stores the report of a lease. Only the agent holding the lease may report (403 otherwise);
     * a repeat of a stored report returns the stored result; a malformed report stores nothing (400).
     */
    @Transactional
    public Reported report(UUID agentId, long jobId, Report r, Caller caller) {
        Agent agent = agents.acting(agentId, caller);
        if (r == null || r.leaseId() == null) throw ResultValidator.invalid("leaseId", "is required");
        // Lock first: a concurrent repeat of this report waits here and then finds the stored result.
        Job job = jobs.lock(jobId).orElseThrow(() -> jobNotFound(jobId));
        Optional<JobResult> stored = results.findByLeaseId(r.leaseId());
        if (stored.isPresent()) {
            JobResult s = stored.get();
            if (s.jobId != jobId || !s.agentId.equals(agentId)) {
                throw notHeld(job, agentId, r.leaseId());
            }
            return new Reported(result(s.id), false);
        }
        requireHolder(job, agentId, r.leaseId());
        String variantDigest = "sha256:" + jdbc.sql("SELECT blob_digest FROM variant WHERE id = ?").param(job.variantId())
                .query(String.class).single();
        ResultValidator.validate(r, job, agent, variantDigest);

        Instant now = clock.instant();
        JobResult res = new JobResult(jobId, job.attempts(), r.leaseId(), agentId, r.outcome(), now);
        res.failure = r.failure();
        Provenance p = r.provenance();
        if (p != null) {
            res.hostName = p.hostName();
            res.osName = p.osName();
            res.osVersion = p.osVersion();
            res.osBuild = p.osBuild();
            res.chip = p.chip();
            res.runtime = p.runtime();
            res.runtimeVersion = p.runtimeVersion();
            res.computeUnits = p.computeUnits();
            res.fp16Activations = p.fp16Activations();
            res.threads = p.threads();
            res.artifactDigest = p.artifactDigest();
            res.startedAt = p.startedAt();
        }
        if (r.outcome().equals("succeeded")) {
            if (r.protocol() != null) {
                res.warmupIterations = r.protocol().warmupIterations();
                res.timedIterations = r.protocol().timedIterations();
                res.maxDurationMs = r.protocol().maxDurationMs();
            }
            Benchmark b = r.benchmark();
            if (b != null) {
                res.loadMs = b.loadMs();
                res.firstPredictionMs = b.firstPredictionMs();
                res.warmupIterationsRun = b.warmupIterationsRun();
                Latency l = b.latency();
                res.latencyN = l.n();
                res.latencyMinMs = l.minMs();
                res.latencyP50Ms = l.p50Ms();
                res.latencyP90Ms = l.p90Ms();
                res.latencyP99Ms = l.p99Ms();
                res.latencyMaxMs = l.maxMs();
                res.latencyMeanMs = l.meanMs();
                res.latencyStddevMs = l.stddevMs();
                res.stoppedByMaxDuration = b.stoppedByMaxDuration();
                res.peakResidentBytes = b.peakResidentBytes();
            }
            res.fidelity = json.writeValueAsString(new LinkedHashMap<>(r.fidelity()));
            res.cosineMin = r.fidelity().values().stream().mapToDouble(Fidelity::cosineMin).min().orElseThrow();
        }
        results.saveAndFlush(res);
        job.finish(r.outcome().equals("succeeded"), r.failure(), now);
        jobs.flush();
        return new Reported(result(res.id), true);
    }

    private void requireHolder(Job job, UUID agentId, UUID leaseId) {
        if (!Job.LEASED.equals(job.state()) || !leaseId.equals(job.leaseId()) || !agentId.equals(job.leasedBy())) {
            throw notHeld(job, agentId, leaseId);
        }
    }

    private static ApiProblem notHeld(Job job, UUID agentId, UUID leaseId) {
        return new ApiProblem(HttpStatus.FORBIDDEN, "lease-not-held", "Lease not held",
                "agent " + agentId + " does not hold lease " + leaseId + " of job " + job.id() + " (the job is "
                        + job.state() + ", attempt " + job.attempts() + "/" + job.maxAttempts()
                        + "); a lease that expired was handed to another agent — drop this work and lease again")
                .with("jobId", job.id()).with("state", job.state());
    }

    private static ApiProblem jobNotFound(long id) {
        return ApiProblem.notFound("job-not-found", "Job not found", "no job with id " + id);
    }

    /** Returns expired leases to the queue (or fails jobs out of attempts); returns how many changed. */
    @Transactional
    public int sweep() {
        Instant now = clock.instant();
        int failed = jobs.failExhausted(now);
        int requeued = jobs.requeueExpired(now);
        if (requeued > 0) signal.afterCommit();
        return failed + requeued;
    }

    /** Stores the golden inputs and outputs of a draft version (idempotent; changing them needs a draft). */
    @Transactional
    public Golden setGolden(String model, int version, Golden g) {
        VersionRef v = models.lockVersion(model, version);
        if (g == null) throw invalidGolden("the body must name both blobs: {\"inputs\": \"sha256:…\", \"outputs\": \"sha256:…\"}");
        String in = goldenHex("inputs", g.inputs());
        String out = goldenHex("outputs", g.outputs());
        Golden current = golden(v.id());
        Golden wanted = new Golden("sha256:" + in, "sha256:" + out);
        if (wanted.equals(current)) return current;
        if (!"draft".equals(v.status())) {
            throw ApiProblem.conflict("version-immutable", "Version is immutable",
                    "version " + version + " of '" + model + "' is " + v.status()
                            + "; golden outputs can only be set on a draft version");
        }
        jdbc.sql("UPDATE model_version SET golden_inputs_digest = ?, golden_digest = ? WHERE id = ?")
                .params(in, out, v.id()).update();
        jobs.markReady(v.id());
        signal.afterCommit();
        return wanted;
    }

    private String goldenHex(String field, String digest) {
        if (digest == null || !digest.startsWith("sha256:")) {
            throw invalidGolden(field + " '" + digest + "' must look like sha256:<64 hex>");
        }
        String hex = Blobs.requireHex(digest.substring(7));
        if (blobs.find(hex).isEmpty()) {
            throw ApiProblem.unprocessable("blob-not-found", "Blob not found",
                    "golden " + field + " blob " + digest + " has not been uploaded; PUT /api/v1/blobs/" + digest + " first");
        }
        return hex;
    }

    private static ApiProblem invalidGolden(String detail) {
        return ApiProblem.badRequest("invalid-golden", "Invalid golden outputs", detail);
    }

    /** The version's golden blobs, or null while either is missing. */
    private Golden golden(long versionId) {
        Map<String, Object> row = jdbc.sql("SELECT golden_inputs_digest AS i, golden_digest AS o FROM model_version WHERE id = ?")
                .param(versionId).query().singleRow();
        Object in = row.get("i");
        Object out = row.get("o");
        return in == null || out == null ? null : new Golden("sha256:" + in, "sha256:" + out);
    }

    @Transactional(readOnly = true)
    public List<JobView> jobs(String model, int version) {
        VersionRef v = versionRef(model, version);
        List<Agent> online = agents.onlineAgents();
        return jdbc.sql("""
                        SELECT j.id, j.variant_id, v.chip, v.precision, v.layout, v.seq_len, j.kind, j.runtime, j.chip,
                               j.compute_units, j.state, j.attempts, j.max_attempts, a.host_name, j.lease_expires_at,
                               j.failure_reason, j.created_at, j.finished_at, j.ready
                          FROM job j JOIN variant v ON v.id = j.variant_id LEFT JOIN agent a ON a.id = j.leased_by
                         WHERE v.version_id = ? ORDER BY j.id""")
                .param(v.id())
                .query((rs, i) -> {
                    String state = rs.getString(11);
                    String waiting = null;
                    if (Job.PENDING.equals(state)) {
                        waiting = waitingFor(rs.getBoolean(19), rs.getString(8), rs.getString(9), online, version);
                    }
                    return new JobView(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getInt(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10), state,
                            rs.getInt(12), rs.getInt(13), Job.LEASED.equals(state) ? rs.getString(14) : null,
                            instant(rs, 15), rs.getString(16), waiting, instant(rs, 17), instant(rs, 18));
                })
                .list();
    }

    private static String waitingFor(boolean ready, String runtime, String chip, List<Agent> online, int version) {
        if (!ready) {
            return "golden inputs and outputs of version " + version + " are not stored yet (the pipeline sets them"
                    + " with PUT .../golden)";
        }
        boolean someone = online.stream().anyMatch(a -> a.runtimes().contains(runtime) && (chip == null || chip.equals(a.chip())));
        if (someone) return null;
        return "no online agent offers runtime '" + runtime + "'" + (chip == null ? "" : " on chip " + chip);
    }

    @Transactional(readOnly = true)
    public List<ResultView> results(String model, int version) {
        VersionRef v = versionRef(model, version);
        return jdbc.sql(RESULT_SELECT + " WHERE v.version_id = ? ORDER BY r.job_id, r.attempt").param(v.id())
                .query(this::resultRow).list();
    }

    private ResultView result(long resultId) {
        return jdbc.sql(RESULT_SELECT + " WHERE r.id = ?").param(resultId).query(this::resultRow).single();
    }

    private VersionRef versionRef(String model, int version) {
        models.version(model, version); // 404s with the registry's own messages
        return jdbc.sql("SELECT v.id, v.model_id, m.name, v.version, v.status FROM model_version v JOIN model m"
                        + " ON m.id = v.model_id WHERE m.name = ? AND v.version = ?")
                .params(model, version)
                .query((rs, i) -> new VersionRef(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getInt(4), rs.getString(5)))
                .single();
    }

    private static final String RESULT_SELECT = """
            SELECT r.job_id, r.attempt, j.kind, j.variant_id, v.chip, v.precision, v.layout, v.seq_len, r.outcome, r.failure,
                   r.host_name, r.os_name, r.os_version, r.os_build, r.chip, r.runtime, r.runtime_version, r.compute_units,
                   r.fp16_activations, r.threads, r.artifact_digest, r.started_at,
                   r.warmup_iterations, r.timed_iterations, r.max_duration_ms,
                   r.load_ms, r.first_prediction_ms, r.warmup_iterations_run, r.latency_n, r.latency_min_ms, r.latency_p50_ms,
                   r.latency_p90_ms, r.latency_p99_ms, r.latency_max_ms, r.latency_mean_ms, r.latency_stddev_ms,
                   r.stopped_by_max_duration, r.peak_resident_bytes, CAST(r.fidelity AS text), r.cosine_min, r.reported_at
              FROM job_result r JOIN job j ON j.id = r.job_id JOIN variant v ON v.id = j.variant_id""";

    private static final TypeReference<LinkedHashMap<String, Fidelity>> FIDELITY = new TypeReference<>() {};

    private ResultView resultRow(ResultSet rs, int i) throws SQLException {
        Provenance p = rs.getString(11) == null ? null : new Provenance(rs.getString(11), rs.getString(12),
                rs.getString(13), rs.getString(14), rs.getString(15), rs.getString(16), rs.getString(17), rs.getString(18),
                (Boolean) rs.getObject(19), (Integer) rs.getObject(20), rs.getString(21), instant(rs, 22));
        ProtocolReport protocol = rs.getObject(23) == null ? null
                : new ProtocolReport(rs.getInt(23), rs.getInt(24), rs.getLong(25));
        Benchmark b = rs.getObject(26) == null ? null : new Benchmark(rs.getDouble(26), rs.getDouble(27), rs.getInt(28),
                new Latency(rs.getInt(29), rs.getDouble(30), rs.getDouble(31), rs.getDouble(32), rs.getDouble(33),
                        rs.getDouble(34), rs.getDouble(35), rs.getDouble(36)),
                rs.getBoolean(37), rs.getLong(38));
        String f = rs.getString(39);
        Map<String, Fidelity> fidelity = f == null ? null : json.readValue(f, FIDELITY);
        Double cosineMin = (Double) rs.getObject(40);
        return new ResultView(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                rs.getString(6), rs.getString(7), rs.getInt(8), rs.getString(9), rs.getString(10), p, protocol, b,
                fidelity, cosineMin, instant(rs, 41));
    }

    private static Instant instant(ResultSet rs, int col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
