package io.aneforge.registry.job;

import io.aneforge.eval.golden.GoldenFormatException;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.registry.agent.Agent;
import io.aneforge.registry.agent.Agents;
import io.aneforge.registry.audit.Audit;
import io.aneforge.registry.auth.Caller;
import io.aneforge.registry.blob.Blob;
import io.aneforge.registry.blob.Blobs;
import io.aneforge.registry.job.JobRecords.AccuracyJob;
import io.aneforge.registry.job.JobRecords.AccuracyRuns;
import io.aneforge.registry.job.JobRecords.Benchmark;
import io.aneforge.registry.job.JobRecords.BlobRef;
import io.aneforge.registry.job.JobRecords.ExpiredLease;
import io.aneforge.registry.job.JobRecords.ReleasedLease;
import io.aneforge.registry.job.JobRecords.Fidelity;
import io.aneforge.registry.job.JobRecords.Golden;
import io.aneforge.registry.job.JobRecords.HandBack;
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
import io.aneforge.registry.leaserequest.ReleasedLeaseRequests;
import io.aneforge.registry.leaserequest.ReleasedLeaseRequests.Queue;
import io.aneforge.registry.model.ModelRecords.VersionRef;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.problem.ApiProblem;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import javax.sql.DataSource;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The job queue: leasing (row-locked with SKIP LOCKED, so concurrent agents never block each
 * other nor share a job), heartbeats that extend leases, releases, and reports that are
 * accepted only from the lease holder and stored once per (job, attempt).
 */
@Service
public class Jobs {

    private static final Logger log = LoggerFactory.getLogger(Jobs.class);

    /** Why the accuracy jobs of a version published without golden data are cancelled; the matrix says the same. */
    public static final String NOT_CHECKED = "published without golden data: accuracy not checked";

    private final JobRepository jobs;
    private final Agents agents;
    private final Models models;
    private final Blobs blobs;
    private final JdbcClient jdbc;
    private final JsonMapper json;
    private final JobProperties props;
    private final LeaseSignal signal;
    private final ReleasedLeaseRequests releasedRequests;
    private final Clock clock = Clock.systemUTC();
    /**
     * Leases and reports are plain JDBC, so they run in plain JDBC transactions: the application's
     * default (JPA) transaction manager would open a Hibernate session per call for nothing, on the
     * two calls a busy queue makes most.
     */
    private final TransactionTemplate queueTransaction;
    private final Audit audit;

    Jobs(JobRepository jobs, Agents agents, Models models, Blobs blobs, JdbcClient jdbc,
         JsonMapper json, JobProperties props, LeaseSignal signal, ReleasedLeaseRequests releasedRequests,
         DataSource dataSource, Audit audit) {
        this.audit = audit;
        this.queueTransaction = new TransactionTemplate(new JdbcTransactionManager(dataSource));
        this.jobs = jobs;
        this.agents = agents;
        this.models = models;
        this.blobs = blobs;
        this.jdbc = jdbc;
        this.json = json;
        this.props = props;
        this.signal = signal;
        this.releasedRequests = releasedRequests;
    }

    /**
     * Takes the oldest open job this agent may run in one statement: pick (row-locked; rows other
     * leasers hold are skipped, so concurrent agents never wait on each other nor get the same
     * job), mark leased, and read what the agent needs to run it. Open: ready (golden data stored)
     * and pending, or leased with an expired lease and attempts left (taken over at once, without
     * waiting for the sweeper; the expired attempt's holder is kept in {@code job_lease_expiry}). The pick reads only {@code job} (through the partial index
     * {@code job_queue}) and the agent's row: a join to variants there made the planner loop over
     * every variant per lease. A lease call whose request the agent already released (it lost the answer, and the
     * release found nothing yet: {@link #releaseRequest}) picks nothing; that check runs once, ahead of the pick, in
     * this statement and so in the grant's transaction ({@link ReleasedLeaseRequests}).
     */
    private static final String LEASE = """
            WITH next AS (
                SELECT j.id, j.state, j.attempts, j.leased_by, j.lease_id, j.lease_expires_at FROM job j
                  JOIN agent a ON a.id = :agent AND NOT a.draining
                 WHERE j.ready
                   AND (j.state = 'pending' OR (j.state = 'leased' AND j.lease_expires_at < :now AND j.attempts < j.max_attempts))
                   AND j.runtime = ANY (a.runtimes)
                   AND (j.chip IS NULL OR j.chip = a.chip)
                   AND j.golden_format <= a.golden_format
                   AND %s
                 ORDER BY j.id
                 LIMIT 1
                   FOR UPDATE OF j SKIP LOCKED),
            leased AS (
                UPDATE job j SET state = 'leased', attempts = j.attempts + 1, lease_id = :lease, leased_by = :agent,
                       lease_expires_at = :expires, lease_request = :request, leased_instance = :instance,
                       -- the instance holds this lease only: a replica from before V33 writes a new lease_id and
                       -- leaves these, so the hand-back (which needs lease_id = leased_instance_lease) skips its leases
                       leased_instance_lease = :lease, leased_process = :process
                  -- A lease lost in a database crash costs at most a duplicate run (the report of the loser gets
                  -- a 403), so a lease need not wait for the WAL flush; results do (their transactions keep
                  -- it). Set here rather than by a separate SET LOCAL: one round trip less per lease.
                  FROM next, (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush
                 WHERE j.id = next.id
                RETURNING j.id, j.variant_id, j.attempts, j.kind, j.runtime, j.compute_units),
            -- a job taken over from an expired lease (before the sweeper got to it): keep who held that attempt
            taken_over AS (
                INSERT INTO job_lease_expiry (job_id, attempt, agent_id, lease_id, expired_at)
                SELECT id, attempts, leased_by, lease_id, lease_expires_at FROM next WHERE state = 'leased'
                    ON CONFLICT DO NOTHING)
            SELECT l.id, l.attempts, l.kind, l.runtime, l.compute_units, m.name, mv.version,
                   v.id, v.chip, v.deployment_target, v.layout, v.precision, v.block_size, v.seq_len,
                   v.blob_digest, v.size, gi.digest, gi.size, go.digest, go.size, v.quantization
              FROM leased l
              JOIN variant v ON v.id = l.variant_id
              JOIN model_version mv ON mv.id = v.version_id
              JOIN model m ON m.id = mv.model_id
              LEFT JOIN blob gi ON gi.digest = mv.golden_inputs_digest
              LEFT JOIN blob go ON go.digest = mv.golden_digest""".formatted(ReleasedLeaseRequests.notReleased(Queue.JOB));

    /**
     * One job for this agent, or empty when none matches (or the agent is draining). {@code request} (may be null)
     * is the agent's id for this call, kept with the lease so that an agent that cannot read the answer can
     * release it ({@link #releaseRequest}); a request it released before anything was granted gets nothing.
     */
    public Optional<LeaseView> lease(UUID agentId, UUID request, Caller caller) {
        return lease(agentId, request, null, null, caller);
    }

    /**
     * As {@link #lease(UUID, UUID, Caller)}, recording which process of the agent holds the lease: {@code instance}
     * (may be null: an agent that does not say) is the id the agent registered with, so a restart of that process
     * gets the lease handed back at its registration ({@link #handBackRestarted}); {@code process} (may be null) is
     * the start of that process, whose own registrations never hand the lease back.
     */
    public Optional<LeaseView> lease(UUID agentId, UUID request, UUID instance, UUID process, Caller caller) {
        return queueTransaction.execute(status -> leaseInTransaction(agentId, request, instance, process, caller));
    }

    private Optional<LeaseView> leaseInTransaction(UUID agentId, UUID request, UUID instance, UUID process,
                                                   Caller caller) {
        agents.identify(agentId, caller);
        Instant now = clock.instant();
        Instant expires = now.plus(agents.fleet().leaseDuration()).truncatedTo(ChronoUnit.MICROS);
        UUID leaseId = UUID.randomUUID();
        ProtocolView protocol = protocolView();
        return jdbc.sql(LEASE)
                .param("agent", agentId)
                .param("leaseRequestOwner", agentId.toString())
                .param("now", utc(now))
                .param("lease", leaseId)
                .param("expires", utc(expires))
                .param("request", request, Types.OTHER)
                .param("instance", instance, Types.OTHER)
                .param("process", instance == null ? null : process, Types.OTHER)
                .query((rs, i) -> {
                    if (rs.getString(17) == null || rs.getString(19) == null) {
                        // ready implies golden data; rolling back keeps the job pending rather than leased to nobody
                        throw new IllegalStateException("job " + rs.getLong(1) + " is ready but its version has no golden blobs");
                    }
                    return new LeaseView(leaseId, rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), expires, rs.getString(6), rs.getInt(7), variantFacts(rs, 8, 21),
                            blobRef(rs.getString(15), rs.getLong(16)), blobRef(rs.getString(17), rs.getLong(18)),
                            blobRef(rs.getString(19), rs.getLong(20)), protocol);
                })
                .optional();
    }

    private static OffsetDateTime utc(Instant t) {
        return t.atOffset(ZoneOffset.UTC);
    }

    private static VariantFacts variantFacts(ResultSet rs, int from, int quantization) throws SQLException {
        return new VariantFacts(rs.getLong(from), rs.getString(from + 1), rs.getString(from + 2), rs.getString(from + 3),
                rs.getString(from + 4), (Integer) rs.getObject(from + 5), rs.getString(quantization), rs.getInt(from + 6));
    }

    /**
     * Path-absolute, never prefixed with aneforge.public-base-url: an agent resolves it against the
     * registry URL it is configured with and already sends its token to. The public base URL is for
     * apps outside; an agent in the cluster would otherwise leave through the external ingress (and
     * over whatever scheme that has) to fetch a blob from the service next door.
     */
    private static BlobRef blobRef(String hex, long size) {
        return new BlobRef("sha256:" + hex, size, "/api/v1/blobs/sha256:" + hex);
    }

    static final int MAX_HEARTBEAT_LEASES = 1000;

    /** Extends the named leases this agent still holds; the others come back as lost. */
    @Transactional
    public HeartbeatAck heartbeat(UUID agentId, List<UUID> leaseIds, Integer goldenFormat, Caller caller) {
        Agents.Acting agent = agents.acting(agentId, caller);
        if (goldenFormat != null && goldenFormat != agent.goldenFormat()) {
            // written only when it differs: an agent upgraded before the registry (recorded as 1 by V26) gets the jobs
            // it reads from its next heartbeat on, not from its next restart
            agents.goldenFormat(agentId, goldenFormat);
        }
        Instant expires = clock.instant().plus(agents.fleet().leaseDuration());
        List<UUID> named = leaseIds == null ? List.of() : leaseIds.stream().filter(Objects::nonNull).distinct().toList();
        if (named.size() > MAX_HEARTBEAT_LEASES) {
            // an agent holds a few leases (one per job it runs); the bound also keeps the queries within PostgreSQL's
            // 65,535 bind parameters
            throw ApiProblem.badRequest("invalid-heartbeat", "Invalid heartbeat", named.size() + " lease ids in one"
                    + " heartbeat; at most " + MAX_HEARTBEAT_LEASES + " (name the leases this agent holds)");
        }
        if (named.isEmpty()) return new HeartbeatAck(expires, List.of(), agent.draining());
        jobs.extend(agentId, named, expires);
        Set<String> held = new HashSet<>(jobs.held(agentId, named));
        List<UUID> lost = named.stream().filter(l -> !held.contains(l.toString())).toList();
        return new HeartbeatAck(expires, lost, agent.draining());
    }

    /**
     * Hands a leased job back to the queue without spending an attempt. A release for {@code trouble} (a transfer or
     * host problem) is counted per job and agent: past {@code aneforge.jobs.max-hand-backs} the job fails instead,
     * naming the count and {@code reason}.
     */
    @Transactional
    public HandBack release(UUID agentId, long jobId, UUID leaseId, String reason, boolean trouble, Caller caller) {
        Agents.Acting agent = agents.acting(agentId, caller);
        Job job = jobs.lock(jobId).orElseThrow(() -> jobNotFound(jobId));
        requireHolder(job, agentId, leaseId);
        return handBack(agent.identity(), job, reason, trouble);
    }

    /**
     * Releases the job leased to this agent for its lease call {@code request}, whose answer it could not read (a
     * proxy's HTML page: no lease or job id to name) or never got (a reset, a timeout). Only a lease this agent holds
     * and was granted for that request is touched. Nothing found is answered {@code none}, and the request is
     * remembered so that a grant for it later (a call still on its way, or waiting in its long poll) is refused
     * ({@link ReleasedLeaseRequests}); the agent still asks again after the call's grant window, for a registry before
     * V15. Counted like a release for trouble ({@code trouble}): a job this agent can never read must not come back
     * to it for ever. Not counted when the agent says the job never reached it for a reason of its own: a lease call
     * a drain cut short, or the long poll an ended process left waiting (released by the next process on its
     * instance slot).
     */
    @Transactional
    public HandBack releaseRequest(UUID agentId, UUID request, String reason, boolean trouble, Caller caller) {
        Agents.Acting agent = agents.acting(agentId, caller);
        // Before the search: waits for a grant of this request under way, and holds later ones until this commits.
        releasedRequests.lockForRelease(Queue.JOB, agentId.toString(), request);
        Optional<Long> id = jdbc.sql("SELECT id FROM job WHERE ready AND state = 'leased' AND leased_by = ?"
                        + " AND lease_request = ? LIMIT 1 FOR UPDATE")
                .params(agentId, request).query(Long.class).optional();
        if (id.isEmpty()) {
            releasedRequests.remember(Queue.JOB, agentId.toString(), request);
            return new HandBack(null, "none", 0, props.maxHandBacks(), null);
        }
        Job job = jobs.lock(id.get()).orElseThrow(() -> jobNotFound(id.get()));
        String why = reason != null && !reason.isBlank() ? reason
                : "agent " + agent.identity().hostName() + (trouble ? " could not read the registry's lease answer"
                        : " released the lease of a lease call it never read");
        return handBack(agent.identity(), job, why, trouble);
    }

    /**
     * An agent process registers as {@code instance} again: it was restarted (an instance id is held by one running
     * process at a time, through a lock in the agent's cache directory, and a process registers once, before it
     * leases), so the jobs still leased to that instance belong to a process that is gone. They are handed back now
     * rather than left to run out their lease (5 minutes by default). Leases of other instances of the same agent (a
     * second agent process on the host) and leases granted without an instance are not touched. Only a row's current
     * lease counts: {@code leased_instance_lease} must still be its {@code lease_id} (a registry replica from before
     * V33 grants leases without writing the instance, and the previous lease's instance stays on the row). A lease
     * {@code process} itself got (same process id: a delayed duplicate of its own registration) is not handed back
     * either; a null {@code process} (an agent that sends none) hands back every lease of the instance.
     *
     * <p>Counted like a hand-back for trouble, per job and agent: no attempt is spent, but a job whose run kills its
     * agent (a native crash in the runtime, the kernel's OOM killer) would otherwise come back to it after every
     * restart for ever; past {@code aneforge.jobs.max-hand-backs} the job fails, naming the restarts.
     */
    @Transactional
    public Agents.HandedBack handBackRestarted(Agents.Identity agent, UUID instance, UUID process) {
        if (instance == null) return new Agents.HandedBack(List.of(), List.of());
        // "ready": every leased job is, and it lets the planner use job_queue (V3) rather than scan the table.
        List<Long> held = jdbc.sql("""
                        SELECT id FROM job
                         WHERE ready AND state = 'leased' AND leased_by = :agent AND leased_instance = :instance
                           AND lease_id = leased_instance_lease
                           AND (CAST(:process AS uuid) IS NULL OR leased_process IS DISTINCT FROM :process)
                         ORDER BY id FOR UPDATE""")
                .param("agent", agent.id()).param("instance", instance).param("process", process, Types.OTHER)
                .query(Long.class).list();
        List<Long> released = new ArrayList<>();
        List<Long> failed = new ArrayList<>();
        for (long id : held) {
            Job job = jobs.lock(id).orElseThrow(() -> jobNotFound(id));
            String reason = "agent " + agent.hostName() + " was restarted (instance " + instance + " registered again)"
                    + " while it held the lease of job " + id + " (attempt " + job.attempts() + "): its process ended"
                    + " without handing the job back (killed, crashed or out of memory), so its registration did. If"
                    + " this repeats for one job, running that job ends the agent: look for the crash in the agent's"
                    + " log and the host's crash reports";
            HandBack h = handBack(agent, job, reason, true);
            (h.failure() == null ? released : failed).add(id);
        }
        if (!held.isEmpty()) {
            log.info("agent {} ({}) restarted as instance {}: its leases from before the restart handed back at its"
                    + " registration: released {}, failed {} (past aneforge.jobs.max-hand-backs)", agent.id(),
                    agent.hostName(), instance, released, failed);
        }
        return new Agents.HandedBack(List.copyOf(released), List.copyOf(failed));
    }

    private HandBack handBack(Agents.Identity agent, Job job, String reason, boolean trouble) {
        int max = props.maxHandBacks();
        if (!trouble) {
            recordRelease(agent, job, reason);
            job.release();
            signal.afterCommit();
            return new HandBack(job.id(), "released", 0, max, null);
        }
        int n = jdbc.sql("""
                        INSERT INTO job_hand_back (job_id, agent_id, hand_backs) VALUES (?, ?, 1)
                        ON CONFLICT (job_id, agent_id) DO UPDATE SET hand_backs = job_hand_back.hand_backs + 1
                        RETURNING hand_backs""")
                .params(job.id(), agent.id()).query(Integer.class).single();
        if (n <= max) {
            recordRelease(agent, job, reason);
            job.release();
            signal.afterCommit();
            return new HandBack(job.id(), "released", n, max, null);
        }
        String last = reason == null || reason.isBlank() ? "(no reason given)"
                : reason.length() <= 4000 ? reason : reason.substring(0, 3997) + "...";
        String failure = "agent " + agent.hostName() + " could not run job " + job.id() + " " + n + " times, each time"
                + " for a reason that is not the job's own (a transfer or the host failed, it could not read the lease,"
                + " or its process ended holding the job; each time the job went back to the queue, and"
                + " aneforge.jobs.max-hand-backs allows " + max + " before the job fails rather than come back for"
                + " ever); the last: " + last;
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        // Stored as this attempt's failed result, as the agent's own failed report was before the count moved here.
        jdbc.sql("INSERT INTO job_result (job_id, attempt, lease_id, agent_id, outcome, failure, reported_at)"
                        + " VALUES (?, ?, ?, ?, 'failed', ?, ?)")
                .params(job.id(), job.attempts(), job.leaseId(), agent.id(), failure, utc(now)).update();
        job.fail(failure, now);
        return new HandBack(job.id(), "failed", n, max, failure);
    }

    /**
     * Keeps who held the lease being handed back ({@code job_lease_release}, V32; {@code releasedLeases} in the jobs
     * list): one upsert per release, counted per job and agent, so a job's rows stay bounded by its agents. Releases
     * are rarer than leases, whose path writes nothing of this.
     */
    private void recordRelease(Agents.Identity agent, Job job, String reason) {
        String why = reason == null || reason.isBlank() ? null
                : reason.length() <= 1000 ? reason : reason.substring(0, 999) + "…";
        jdbc.sql("""
                        INSERT INTO job_lease_release (job_id, agent_id, releases, last_attempt, last_lease_id, last_reason,
                                                       first_released_at, last_released_at)
                        VALUES (?, ?, 1, ?, ?, ?, now(), now())
                        ON CONFLICT (job_id, agent_id) DO UPDATE SET releases = job_lease_release.releases + 1,
                            last_attempt = EXCLUDED.last_attempt, last_lease_id = EXCLUDED.last_lease_id,
                            last_reason = EXCLUDED.last_reason, last_released_at = EXCLUDED.last_released_at""")
                .params(job.id(), agent.id(), job.attempts(), job.leaseId(), why).update();
    }

    public record Reported(ResultView result, boolean created) {}

    /** The job a report names, row-locked, with its variant and any result already stored under the lease. */
    private record Held(ResultValidator.JobFacts job, String state, int attempts, int maxAttempts, UUID leaseId,
                        UUID leasedBy, long variantId, String variantChip, String precision, Integer blockSize,
                        String quantization, String layout, int seqLen, String variantDigest, Long storedResultId,
                        Long storedJobId, UUID storedAgentId, String model, int version) {}

    private static final String HELD = """
            SELECT j.id, j.kind, j.runtime, j.compute_units, j.state, j.attempts, j.max_attempts, j.lease_id, j.leased_by,
                   j.variant_id, v.chip, v.precision, v.layout, v.seq_len, v.blob_digest, r.id, r.job_id, r.agent_id,
                   v.block_size, v.quantization, mo.name, mv.version
              FROM job j
              JOIN variant v ON v.id = j.variant_id
              JOIN model_version mv ON mv.id = v.version_id
              JOIN model mo ON mo.id = mv.model_id
              LEFT JOIN job_result r ON r.lease_id = :lease
             WHERE j.id = :job
               FOR UPDATE OF j""";

    private static final String STORE = """
            WITH stored AS (
                INSERT INTO job_result (job_id, attempt, lease_id, agent_id, outcome, failure,
                       host_name, os_name, os_version, os_build, chip, runtime, runtime_version, compute_units,
                       fp16_activations, threads, artifact_digest, started_at,
                       warmup_iterations, timed_iterations, max_duration_ms,
                       load_ms, first_prediction_ms, warmup_iterations_run, latency_n, latency_min_ms, latency_p50_ms,
                       latency_p90_ms, latency_p99_ms, latency_max_ms, latency_mean_ms, latency_stddev_ms,
                       stopped_by_max_duration, peak_resident_bytes, fidelity, cosine_min, reported_at)
                VALUES (:job, :attempt, :lease, :agent, :outcome, :failure,
                       :hostName, :osName, :osVersion, :osBuild, :chip, :runtime, :runtimeVersion, :computeUnits,
                       :fp16, :threads, :artifactDigest, :startedAt,
                       :warmup, :timed, :maxDuration,
                       :loadMs, :firstMs, :warmupRun, :n, :minMs, :p50Ms,
                       :p90Ms, :p99Ms, :maxMs, :meanMs, :stddevMs,
                       :stopped, :peak, CAST(:fidelity AS jsonb), :cosineMin, :now)
                RETURNING id),
            finished AS (
                UPDATE job SET state = :state, failure_reason = :reason, finished_at = :now, lease_id = NULL,
                       lease_expires_at = NULL
                 WHERE id = :job)
            SELECT id FROM stored""";

    /**
     * Stores the report of a lease. Only the agent holding the lease may report (403 otherwise);
     * a repeat of a stored report returns the stored result; a malformed report stores nothing (400).
     * Two statements besides the agent check: lock the job (with the variant and any stored result),
     * then insert the result and finish the job together.
     */
    public Reported report(UUID agentId, long jobId, Report r, Caller caller) {
        return queueTransaction.execute(status -> reportInTransaction(agentId, jobId, r, caller));
    }

    /** The benchmark protocol sent with benchmark leases (and the least a benchmark report may have run). */
    private ProtocolView protocolView() {
        JobProperties.Protocol p = props.protocol();
        return new ProtocolView(p.warmupIterations(), p.timedIterations(), p.maxDuration().toMillis());
    }

    private Reported reportInTransaction(UUID agentId, long jobId, Report r, Caller caller) {
        Agents.Identity agent = agents.identify(agentId, caller);
        if (r == null || r.leaseId() == null) throw ResultValidator.invalid("leaseId", "is required");
        // Lock first: a concurrent repeat of this report waits here and then finds the stored result.
        Held held = jdbc.sql(HELD).param("job", jobId).param("lease", r.leaseId())
                .query((rs, i) -> new Held(new ResultValidator.JobFacts(rs.getLong(1), rs.getString(2), rs.getString(3),
                        rs.getString(4)), rs.getString(5), rs.getInt(6), rs.getInt(7), rs.getObject(8, UUID.class),
                        rs.getObject(9, UUID.class), rs.getLong(10), rs.getString(11), rs.getString(12),
                        (Integer) rs.getObject(19), rs.getString(20), rs.getString(13), rs.getInt(14), rs.getString(15),
                        (Long) rs.getObject(16), (Long) rs.getObject(17), rs.getObject(18, UUID.class), rs.getString(21),
                        rs.getInt(22)))
                .optional().orElseThrow(() -> jobNotFound(jobId));
        if (held.storedResultId() != null) {
            if (held.storedJobId() != jobId || !held.storedAgentId().equals(agentId)) {
                throw notHeld(held, agentId, r.leaseId());
            }
            return new Reported(result(held.storedResultId()), false);
        }
        if (!Job.LEASED.equals(held.state()) || !r.leaseId().equals(held.leaseId()) || !agentId.equals(held.leasedBy())) {
            throw notHeld(held, agentId, r.leaseId());
        }
        ResultValidator.validate(r, held.job(), new ResultValidator.AgentFacts(agent.hostName(), agent.chip()),
                "sha256:" + held.variantDigest().trim(), protocolView());

        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS); // what the database keeps
        boolean succeeded = r.outcome().equals("succeeded");
        Provenance p = r.provenance() == null ? null : withMicros(r.provenance());
        ProtocolReport protocol = succeeded ? r.protocol() : null;
        Benchmark b = succeeded ? r.benchmark() : null;
        Latency l = b == null ? null : b.latency();
        Map<String, Fidelity> fidelity = succeeded ? r.fidelity() : null;
        Double cosineMin = fidelity == null ? null
                : fidelity.values().stream().mapToDouble(Fidelity::cosineMin).min().orElseThrow();
        jdbc.sql(STORE)
                .param("job", jobId)
                .param("attempt", held.attempts())
                .param("lease", r.leaseId())
                .param("agent", agentId)
                .param("outcome", r.outcome())
                .param("failure", r.failure(), Types.VARCHAR)
                .param("hostName", p == null ? null : p.hostName(), Types.VARCHAR)
                .param("osName", p == null ? null : p.osName(), Types.VARCHAR)
                .param("osVersion", p == null ? null : p.osVersion(), Types.VARCHAR)
                .param("osBuild", p == null ? null : p.osBuild(), Types.VARCHAR)
                .param("chip", p == null ? null : p.chip(), Types.VARCHAR)
                .param("runtime", p == null ? null : p.runtime(), Types.VARCHAR)
                .param("runtimeVersion", p == null ? null : p.runtimeVersion(), Types.VARCHAR)
                .param("computeUnits", p == null ? null : p.computeUnits(), Types.VARCHAR)
                .param("fp16", p == null ? null : p.fp16Activations(), Types.BOOLEAN)
                .param("threads", p == null ? null : p.threads(), Types.INTEGER)
                .param("artifactDigest", p == null ? null : p.artifactDigest(), Types.VARCHAR)
                .param("startedAt", p == null || p.startedAt() == null ? null : utc(p.startedAt()),
                        Types.TIMESTAMP_WITH_TIMEZONE)
                .param("warmup", protocol == null ? null : protocol.warmupIterations(), Types.INTEGER)
                .param("timed", protocol == null ? null : protocol.timedIterations(), Types.INTEGER)
                .param("maxDuration", protocol == null ? null : protocol.maxDurationMs(), Types.BIGINT)
                .param("loadMs", b == null ? null : b.loadMs(), Types.DOUBLE)
                .param("firstMs", b == null ? null : b.firstPredictionMs(), Types.DOUBLE)
                .param("warmupRun", b == null ? null : b.warmupIterationsRun(), Types.INTEGER)
                .param("n", l == null ? null : l.n(), Types.INTEGER)
                .param("minMs", l == null ? null : l.minMs(), Types.DOUBLE)
                .param("p50Ms", l == null ? null : l.p50Ms(), Types.DOUBLE)
                .param("p90Ms", l == null ? null : l.p90Ms(), Types.DOUBLE)
                .param("p99Ms", l == null ? null : l.p99Ms(), Types.DOUBLE)
                .param("maxMs", l == null ? null : l.maxMs(), Types.DOUBLE)
                .param("meanMs", l == null ? null : l.meanMs(), Types.DOUBLE)
                .param("stddevMs", l == null ? null : l.stddevMs(), Types.DOUBLE)
                .param("stopped", b == null ? null : b.stoppedByMaxDuration(), Types.BOOLEAN)
                .param("peak", b == null ? null : b.peakResidentBytes(), Types.BIGINT)
                .param("fidelity", fidelity == null ? null : json.writeValueAsString(new LinkedHashMap<>(fidelity)),
                        Types.VARCHAR)
                .param("cosineMin", cosineMin, Types.DOUBLE)
                .param("now", utc(now))
                .param("state", succeeded ? Job.SUCCEEDED : Job.FAILED)
                .param("reason", succeeded ? null : r.failure(), Types.VARCHAR)
                .query(Long.class).single();
        // Audited (job.report) in the same transaction: who ran the job and what it came to; a repeat of the report
        // (answered from the stored result above) records nothing. Leases are not audited (docs/deploy.md, "Logs").
        audit.record(caller, Audit.Event.of("job.report").onJob(held.model(), held.version(), held.variantId(), jobId)
                .with("kind", held.job().kind()).with("attempt", held.attempts()).with("agentId", agentId.toString())
                .with("hostName", agent.hostName()).with("outcome", r.outcome()));
        // The answer is built from what was just stored (same values the results listing reads back).
        ResultView view = new ResultView(jobId, held.attempts(), held.job().kind(), held.variantId(), held.variantChip(),
                held.precision(), held.blockSize(), held.quantization(), held.layout(), held.seqLen(), r.outcome(), r.failure(), p, protocol, b, fidelity,
                cosineMin, now);
        return new Reported(view, true);
    }

    private static Provenance withMicros(Provenance p) {
        Instant started = p.startedAt() == null ? null : p.startedAt().truncatedTo(ChronoUnit.MICROS);
        return new Provenance(p.hostName(), p.osName(), p.osVersion(), p.osBuild(), p.chip(), p.runtime(),
                p.runtimeVersion(), p.computeUnits(), p.fp16Activations(), p.threads(), p.artifactDigest(), started);
    }

    private static ApiProblem notHeld(Held h, UUID agentId, UUID leaseId) {
        return notHeld(h.job().id(), h.state(), h.attempts(), h.maxAttempts(), agentId, leaseId);
    }

    private void requireHolder(Job job, UUID agentId, UUID leaseId) {
        if (!Job.LEASED.equals(job.state()) || !leaseId.equals(job.leaseId()) || !agentId.equals(job.leasedBy())) {
            throw notHeld(job, agentId, leaseId);
        }
    }

    private static ApiProblem notHeld(Job job, UUID agentId, UUID leaseId) {
        return notHeld(job.id(), job.state(), job.attempts(), job.maxAttempts(), agentId, leaseId);
    }

    private static ApiProblem notHeld(long jobId, String state, int attempts, int maxAttempts, UUID agentId, UUID leaseId) {
        return new ApiProblem(HttpStatus.FORBIDDEN, "lease-not-held", "Lease not held",
                "agent " + agentId + " does not hold lease " + leaseId + " of job " + jobId + " (the job is "
                        + state + ", attempt " + attempts + "/" + maxAttempts
                        + "); a lease that expired was handed to another agent — drop this work and lease again")
                .with("jobId", jobId).with("state", state);
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

    /**
     * Stores the golden inputs and outputs of a draft version (idempotent; changing them needs a draft).
     *
     * @return what is stored, and whether this call stored it (false: the same blobs were there already)
     */
    @Transactional
    public Audit.Outcome<Golden> setGolden(String model, int version, Golden g) {
        models.version(model, version); // an unknown model or version is a 404 before anything else
        if (g == null) throw invalidGolden("the body must name both blobs: {\"inputs\": \"sha256:…\", \"outputs\": \"sha256:…\"}");
        String in = goldenHex("inputs", g.inputs());
        String out = goldenHex("outputs", g.outputs());
        // The blobs' format versions, from their headers in the object store: read before the version's row is
        // locked, so a slow store holds up no other write of the version (a blob's bytes never change). A blob that is
        // not golden data is refused here rather than by every agent that leases a job.
        int format = Math.max(goldenFormat("inputs", in), goldenFormat("outputs", out));
        VersionRef v = models.lockVersion(model, version);
        Golden current = golden(v.id());
        Golden wanted = new Golden("sha256:" + in, "sha256:" + out);
        if (wanted.equals(current)) return new Audit.Outcome<>(current, false);
        if (!"draft".equals(v.status())) {
            throw ApiProblem.conflict("version-immutable", "Version is immutable",
                    "version " + version + " of '" + model + "' is " + v.status()
                            + "; golden outputs can only be set on a draft version");
        }
        // the jobs carry the newer format and go only to agents that read it
        jdbc.sql("UPDATE model_version SET golden_inputs_digest = ?, golden_digest = ?, golden_format = ? WHERE id = ?")
                .params(in, out, format, v.id()).update();
        jobs.markReady(v.id(), format);
        signal.afterCommit();
        return new Audit.Outcome<>(wanted, true);
    }

    /**
     * Queues the version's accuracy jobs again: one new job (the next {@link Job#run}) per available variant, runnable
     * at once against the version's stored golden data. Earlier jobs and their results stay as they are (history;
     * the matrix shows the newest finished run). A variant whose accuracy job is still pending or leased gets no
     * second one. 409 when the version is yanked, has no golden data, no available variant, or every variant's
     * accuracy job is still open; 404 for an unknown model or version.
     */
    @Transactional
    public AccuracyRuns rerunAccuracy(String model, int version) {
        VersionRef v = models.lockVersion(model, version); // serializes re-runs of one version: run numbers stay unique
        if ("yanked".equals(v.status())) {
            throw ApiProblem.conflict("version-yanked", "Version is yanked",
                    "version " + version + " of '" + model + "' was yanked: its jobs were cancelled and no new ones run;"
                            + " re-run accuracy on a version that is not yanked");
        }
        if (golden(v.id()) == null) {
            throw ApiProblem.conflict("no-golden-data", "No golden data",
                    "version " + version + " of '" + model + "' has no golden inputs and outputs, which accuracy jobs"
                            + " compare against: its conversion has not stored them yet (wait for it), or it was published"
                            + " without them (\"withoutGoldenData\": accuracy not checked; publish a new version with golden"
                            + " data: publish --dir from a convert run with --samples > 0, or let the converter worker"
                            + " convert it)");
        }
        record AvailableVariant(long id, String chip, String precision) {}
        List<AvailableVariant> variants = jdbc.sql("SELECT id, chip, precision FROM variant WHERE version_id = ?"
                        + " AND status = 'available' ORDER BY id")
                .param(v.id())
                .query((rs, i) -> new AvailableVariant(rs.getLong(1), rs.getString(2), rs.getString(3)))
                .list();
        if (variants.isEmpty()) {
            throw ApiProblem.conflict("no-available-variants", "No available variants",
                    "version " + version + " of '" + model + "' has no available variant to measure (none registered yet,"
                            + " or all yanked)");
        }
        Instant now = clock.instant();
        List<AccuracyJob> queued = new java.util.ArrayList<>();
        List<AccuracyJob> open = new java.util.ArrayList<>();
        int goldenFormat = models.goldenFormat(v.id()); // the version's, the same for each of its variants
        for (AvailableVariant av : variants) {
            Map<String, Object> newest = jdbc.sql("SELECT id, run, state FROM job WHERE variant_id = ? AND kind = ?"
                            + " AND runtime = ? AND compute_units = ? ORDER BY run DESC LIMIT 1")
                    .params(av.id(), Job.ACCURACY, Runtimes.REFERENCE_CPU, JobCreator.ACCURACY_UNITS)
                    .query().listOfRows().stream().findFirst().orElse(null);
            int run = newest == null ? 0 : ((Number) newest.get("run")).intValue();
            if (newest != null && (Job.PENDING.equals(newest.get("state")) || Job.LEASED.equals(newest.get("state")))) {
                open.add(new AccuracyJob(av.id(), av.chip(), av.precision(), ((Number) newest.get("id")).longValue(), run));
                continue;
            }
            Job j = jobs.save(Job.rerun(av.id(), Job.ACCURACY, Runtimes.REFERENCE_CPU, null, JobCreator.ACCURACY_UNITS,
                    goldenFormat, props.maxAttempts(), now, run + 1));
            queued.add(new AccuracyJob(av.id(), av.chip(), av.precision(), j.id(), j.run()));
        }
        if (queued.isEmpty()) {
            throw ApiProblem.conflict("accuracy-jobs-open", "Accuracy jobs still open",
                    "every available variant of version " + version + " of '" + model + "' already has a pending or"
                            + " leased accuracy job (" + open.stream().map(a -> "job " + a.jobId()).toList()
                            + "); wait for them: GET /api/v1/models/" + model + "/versions/" + version + "/jobs")
                    .with("alreadyOpen", open);
        }
        jobs.flush();
        signal.afterCommit();
        return new AccuracyRuns(model, version, queued, open);
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

    private int goldenFormat(String field, String hex) {
        Blob blob = blobs.find(hex).orElseThrow();
        // Only the 8-byte header (magic and version) is read: a blob with a valid header and a damaged body is accepted
        // here and refused by the agents that read it (GoldenOutputsCodec checks its CRC-32).
        if (blob.size() < GoldenOutputsCodec.HEADER_BYTES) {
            throw notGoldenData(field, hex, "it holds " + blob.size() + " bytes, fewer than the "
                    + GoldenOutputsCodec.HEADER_BYTES + "-byte header of golden data");
        }
        try (InputStream start = blobs.openStart(blob, GoldenOutputsCodec.HEADER_BYTES)) {
            return GoldenOutputsCodec.version(start);
        } catch (GoldenFormatException e) {
            throw notGoldenData(field, hex, e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("reading the header of golden " + field + " blob sha256:" + hex, e);
        }
    }

    private static ApiProblem notGoldenData(String field, String hex, String why) {
        return ApiProblem.unprocessable("not-golden-data", "Not golden data", "golden " + field + " blob sha256:" + hex
                + " cannot be used: " + why + ". Upload the golden-inputs.bin / golden-outputs.bin that"
                + " `./aneforge convert` or the converter worker wrote (GoldenOutputsCodec), then set them again");
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
        Map<Long, List<ExpiredLease>> expired = new java.util.HashMap<>();
        jdbc.sql("""
                        SELECT e.job_id, e.attempt, a.host_name, e.expired_at
                          FROM job_lease_expiry e JOIN job j ON j.id = e.job_id JOIN variant v ON v.id = j.variant_id
                          JOIN agent a ON a.id = e.agent_id
                         WHERE v.version_id = ? ORDER BY e.job_id, e.attempt""")
                .param(v.id())
                .query(rs -> {
                    expired.computeIfAbsent(rs.getLong(1), id -> new java.util.ArrayList<>())
                            .add(new ExpiredLease(rs.getInt(2), rs.getString(3), instant(rs, 4)));
                });
        Map<Long, List<ReleasedLease>> released = new java.util.HashMap<>();
        jdbc.sql("""
                        SELECT r.job_id, a.host_name, r.releases, r.last_attempt, r.first_released_at,
                               r.last_released_at, r.last_reason
                          FROM job_lease_release r JOIN job j ON j.id = r.job_id JOIN variant v ON v.id = j.variant_id
                          JOIN agent a ON a.id = r.agent_id
                         WHERE v.version_id = ? ORDER BY r.job_id, r.first_released_at, a.host_name""")
                .param(v.id())
                .query(rs -> {
                    released.computeIfAbsent(rs.getLong(1), id -> new java.util.ArrayList<>())
                            .add(new ReleasedLease(rs.getString(2), rs.getInt(3), rs.getInt(4), instant(rs, 5),
                                    instant(rs, 6), rs.getString(7)));
                });
        return jdbc.sql("""
                        SELECT j.id, j.variant_id, v.chip, v.precision, v.layout, v.seq_len, j.kind, j.runtime, j.chip,
                               j.compute_units, j.state, j.attempts, j.max_attempts, a.host_name, j.lease_expires_at,
                               j.failure_reason, j.created_at, j.finished_at, j.ready, v.block_size, v.quantization, j.run,
                               j.golden_format
                          FROM job j JOIN variant v ON v.id = j.variant_id LEFT JOIN agent a ON a.id = j.leased_by
                         WHERE v.version_id = ? ORDER BY j.id""")
                .param(v.id())
                .query((rs, i) -> {
                    String state = rs.getString(11);
                    String waiting = null;
                    if (Job.PENDING.equals(state)) {
                        waiting = waitingFor(rs.getBoolean(19), rs.getString(8), rs.getString(9), rs.getInt(23), online,
                                version);
                    }
                    return new JobView(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            (Integer) rs.getObject(20), rs.getString(21), rs.getString(5),
                            rs.getInt(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10), state,
                            rs.getInt(22), rs.getInt(12), rs.getInt(13), Job.LEASED.equals(state) ? rs.getString(14) : null,
                            instant(rs, 15), rs.getString(16), waiting, instant(rs, 17), instant(rs, 18),
                            List.copyOf(expired.getOrDefault(rs.getLong(1), List.of())),
                            List.copyOf(released.getOrDefault(rs.getLong(1), List.of())));
                })
                .list();
    }

    /**
     * Why a pending job is not run yet, or null when an online agent could take it. Public because the matrix
     * gives each pending cell the same text as the jobs list (review-d #11).
     */
    public static String waitingFor(boolean ready, String runtime, String chip, int goldenFormat, List<Agent> online,
                                    int version) {
        if (!ready) {
            // Only a draft's jobs wait so: publishing refuses a version without golden data unless its publisher
            // opts out, which cancels its jobs (V23 did the same for versions published before the rule).
            return "golden inputs and outputs of version " + version + " are not stored yet (PUT .../golden, only while"
                    + " the version is a draft; publishing refuses it without them): a registry conversion stores them in"
                    + " its golden step, aneforge publish --dir from a convert output before it publishes";
        }
        List<Agent> offering = online.stream()
                .filter(a -> a.runtimes().contains(runtime) && (chip == null || chip.equals(a.chip()))).toList();
        String where = "runtime '" + runtime + "'" + (chip == null ? "" : " on chip " + chip);
        if (offering.isEmpty()) return "no online agent offers " + where;
        if (offering.stream().anyMatch(a -> a.goldenFormat() >= goldenFormat)) return null;
        int newest = offering.stream().mapToInt(Agent::goldenFormat).max().orElse(1);
        return "the version's golden data is format " + goldenFormat + ", and the online agents offering " + where
                + " read format " + newest + " at most: upgrade those device agents (jobs go to agents that read their"
                + " golden data), or write golden data they read (ANEFORGE_GOLDEN_FORMAT=" + newest + " for convert and the"
                + " converter workers) in a new version";
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
                   r.stopped_by_max_duration, r.peak_resident_bytes, CAST(r.fidelity AS text), r.cosine_min, r.reported_at,
                   v.block_size, v.quantization
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
                rs.getString(6), (Integer) rs.getObject(42), rs.getString(43), rs.getString(7), rs.getInt(8), rs.getString(9), rs.getString(10), p, protocol, b,
                fidelity, cosineMin, instant(rs, 41));
    }

    private static Instant instant(ResultSet rs, int col) throws SQLException {
        OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
