package io.aneforge.registry.job;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** The JSON shapes of leases, reports, jobs and results. */
public final class JobRecords {

    private JobRecords() {}

    /** A blob to download: digest, size and the path-absolute registry URL to GET it from (against the agent's registry URL). */
    public record BlobRef(String digest, long size, String url) {}

    /** @param quantization {@code symmetric}, {@code affine}, {@code symmetric-mse}, {@code affine-mse}, {@code symmetric-gptq} or {@code affine-gptq} for block-wise int8/int4 (int4 also with {@code -ffn8}), else null */
    public record VariantFacts(long id, String chip, String deploymentTarget, String layout, String precision,
                               Integer blockSize, String quantization, int seqLen) {}

    public record ProtocolView(int warmupIterations, int timedIterations, long maxDurationMs) {}

    /** What an agent gets when it leases a job. */
    public record LeaseView(UUID leaseId, long jobId, int attempt, String kind, String runtime, String computeUnits,
                            Instant expiresAt, String model, int version, VariantFacts variant, BlobRef artifact,
                            BlobRef goldenInputs, BlobRef goldenOutputs, ProtocolView protocol) {}

    /**
     * @param goldenFormat optional: the newest golden data format the agent reads, sent on every heartbeat so that an
     *     agent that registered with a registry from before V26 (recorded as 1) is known to read more without a restart
     */
    public record Heartbeat(List<UUID> leaseIds, Integer goldenFormat) {}

    /** @param lostLeaseIds leases named in the heartbeat that this agent no longer holds: abandon their work */
    public record HeartbeatAck(Instant extendedUntil, List<UUID> lostLeaseIds, boolean draining) {}

    /**
     * An agent handing a lease back. {@code trouble}: the job could not run for a reason that is not its own (a
     * transfer or host problem), which counts against {@code aneforge.jobs.max-hand-backs}; absent or false (a
     * draining agent, a report it could not deliver) does not count.
     */
    public record Release(UUID leaseId, String reason, Boolean trouble) {}

    /**
     * An agent releasing the lease granted for one of its lease calls, whose answer it could not read or never got.
     * {@code trouble}: absent or true counts it like a release for trouble (an answer lost or unreadable, as agents
     * before this field sent); false does not: the call was cut short by a drain, or it was the long poll an ended
     * process of the agent left waiting, released by the next process on its instance slot: the job never ran.
     */
    public record RequestRelease(String reason, Boolean trouble) {}

    /**
     * What a hand-back did: {@code released} (the job is pending again, no attempt spent), {@code failed} (this
     * agent handed the job back more than {@code maxHandBacks} times for trouble; the job failed with
     * {@code failure}) or {@code none} (a release by lease request found no lease held for it).
     *
     * @param handBacks this agent's counted hand-backs of this job so far, this one included
     */
    public record HandBack(Long jobId, String outcome, int handBacks, int maxHandBacks, String failure) {}

    public record Provenance(String hostName, String osName, String osVersion, String osBuild, String chip,
                             String runtime, String runtimeVersion, String computeUnits, Boolean fp16Activations,
                             Integer threads, String artifactDigest, Instant startedAt) {}

    public record Latency(Integer n, Double minMs, Double p50Ms, Double p90Ms, Double p99Ms, Double maxMs,
                          Double meanMs, Double stddevMs) {}

    public record Benchmark(Double loadMs, Double firstPredictionMs, Integer warmupIterationsRun, Latency latency,
                            Boolean stoppedByMaxDuration, Long peakResidentBytes) {}

    /**
     * The fields of io.aneforge.eval.FidelityReport. {@code comparedPositions}: per sample id, the positions compared
     * when the version's golden data holds the output at those only (golden format 3); left out when every real token
     * was compared (and by agents before format 3).
     */
    public record Fidelity(Integer positions, Integer hiddenSize, Double cosineMean, Double cosineMin,
                           Double cosinePooled, Double maxAbsError, Double meanAbsError, Double psnrDb,
                           Double top1Agreement,
                           @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
                           Map<String, List<Integer>> comparedPositions) {

        public Fidelity(Integer positions, Integer hiddenSize, Double cosineMean, Double cosineMin,
                        Double cosinePooled, Double maxAbsError, Double meanAbsError, Double psnrDb,
                        Double top1Agreement) {
            this(positions, hiddenSize, cosineMean, cosineMin, cosinePooled, maxAbsError, meanAbsError, psnrDb,
                    top1Agreement, null);
        }
    }

    public record ProtocolReport(Integer warmupIterations, Integer timedIterations, Long maxDurationMs) {}

    /** An agent's report of one lease. */
    public record Report(UUID leaseId, String outcome, String failure, Provenance provenance, ProtocolReport protocol,
                         Benchmark benchmark, Map<String, Fidelity> fidelity) {}

    /**
     * @param run        1 for the job queued with the variant, 2, 3, ... for accuracy re-runs
     *                   ({@code POST .../accuracy-runs}); the newest finished run is what the matrix shows
     * @param waitingFor for a pending job, why nobody runs it yet (null when an online agent could take it)
     * @param expiredLeases the attempts whose lease ran out without a result, oldest first, with the agent that held
     *                   each: with the results' agents, who ran every attempt (leases are not audited)
     * @param releasedLeases the agents that handed the job back without spending an attempt, each with its count of
     *                   releases, oldest first ({@code job_lease_release}, V32)
     */
    public record JobView(long id, long variantId, String variantChip, String precision, Integer blockSize,
                          String quantization, String layout, int seqLen,
                          String kind, String runtime, String requiredChip, String computeUnits, String state, int run,
                          int attempts, int maxAttempts, String leasedBy, Instant leaseExpiresAt, String failureReason,
                          String waitingFor, Instant createdAt, Instant finishedAt, List<ExpiredLease> expiredLeases,
                          List<ReleasedLease> releasedLeases) {}

    /** An attempt whose lease expired: {@code agent} the holder's host name ({@code job_lease_expiry}, V29). */
    public record ExpiredLease(int attempt, String agent, Instant expiredAt) {}

    /**
     * An agent's hand-backs of a job ({@code job_lease_release}, V32): {@code agent} its host name, {@code releases}
     * how many (for trouble or not), and the last one's attempt (its number, not spent), time and reason.
     */
    public record ReleasedLease(String agent, int releases, int lastAttempt, Instant firstReleasedAt,
                                Instant lastReleasedAt, String lastReason) {}

    public record ResultView(long jobId, int attempt, String kind, long variantId, String variantChip,
                             String precision, Integer blockSize, String quantization, String layout, int seqLen, String outcome, String failure,
                             Provenance provenance, ProtocolReport protocol, Benchmark benchmark,
                             Map<String, Fidelity> fidelity, Double cosineMin, Instant reportedAt) {}

    /** One accuracy job of a re-run: the variant it measures, the job and its run number. */
    public record AccuracyJob(long variantId, String variantChip, String precision, long jobId, int run) {}

    /**
     * What {@code POST .../accuracy-runs} did: {@code queued}, the new jobs (one per available variant); {@code alreadyOpen},
     * variants whose accuracy job was still pending or leased, so nothing new was queued for them (that job measures
     * against the same golden data).
     */
    public record AccuracyRuns(String model, int version, List<AccuracyJob> queued, List<AccuracyJob> alreadyOpen) {}

    /** The pipeline's golden blobs for a version (GoldenOutputsCodec format). */
    public record Golden(String inputs, String outputs) {}
}
