package io.aneforge.registry.job;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;
import org.hibernate.annotations.ColumnTransformer;

/** One reported attempt of a job (table {@code job_result}), unique per (job, attempt). */
@Entity
@Table(name = "job_result")
public class JobResult {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;
    @Column(name = "job_id", nullable = false)
    long jobId;
    @Column(nullable = false)
    int attempt;
    @Column(name = "lease_id", nullable = false)
    UUID leaseId;
    @Column(name = "agent_id", nullable = false)
    UUID agentId;
    @Column(nullable = false)
    String outcome;
    String failure;

    @Column(name = "host_name")
    String hostName;
    @Column(name = "os_name")
    String osName;
    @Column(name = "os_version")
    String osVersion;
    @Column(name = "os_build")
    String osBuild;
    String chip;
    String runtime;
    @Column(name = "runtime_version")
    String runtimeVersion;
    @Column(name = "compute_units")
    String computeUnits;
    @Column(name = "fp16_activations")
    Boolean fp16Activations;
    Integer threads;
    @Column(name = "artifact_digest")
    String artifactDigest;
    @Column(name = "started_at")
    Instant startedAt;

    @Column(name = "warmup_iterations")
    Integer warmupIterations;
    @Column(name = "timed_iterations")
    Integer timedIterations;
    @Column(name = "max_duration_ms")
    Long maxDurationMs;

    @Column(name = "load_ms")
    Double loadMs;
    @Column(name = "first_prediction_ms")
    Double firstPredictionMs;
    @Column(name = "warmup_iterations_run")
    Integer warmupIterationsRun;
    @Column(name = "latency_n")
    Integer latencyN;
    @Column(name = "latency_min_ms")
    Double latencyMinMs;
    @Column(name = "latency_p50_ms")
    Double latencyP50Ms;
    @Column(name = "latency_p90_ms")
    Double latencyP90Ms;
    @Column(name = "latency_p99_ms")
    Double latencyP99Ms;
    @Column(name = "latency_max_ms")
    Double latencyMaxMs;
    @Column(name = "latency_mean_ms")
    Double latencyMeanMs;
    @Column(name = "latency_stddev_ms")
    Double latencyStddevMs;
    @Column(name = "stopped_by_max_duration")
    Boolean stoppedByMaxDuration;
    @Column(name = "peak_resident_bytes")
    Long peakResidentBytes;

    /** FidelityReport per output name, as JSON (validated before it gets here). */
    @Column(columnDefinition = "jsonb")
    @ColumnTransformer(write = "?::jsonb")
    String fidelity;
    @Column(name = "cosine_min")
    Double cosineMin;
    @Column(name = "reported_at", nullable = false)
    Instant reportedAt;

    protected JobResult() {}

    JobResult(long jobId, int attempt, UUID leaseId, UUID agentId, String outcome, Instant reportedAt) {
        this.jobId = jobId;
        this.attempt = attempt;
        this.leaseId = leaseId;
        this.agentId = agentId;
        this.outcome = outcome;
        this.reportedAt = reportedAt;
    }
}
