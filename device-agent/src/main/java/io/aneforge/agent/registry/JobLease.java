package io.aneforge.agent.registry;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.runtime.RuntimeOptions;
import java.time.Instant;
import java.util.Objects;

/**
 * One leased job.
 *
 * @param attempt which lease of this job this is (1 for the first)
 * @param kind {@link Kind#BENCHMARK} (latency on this chip, plus the first prediction's fidelity) or
 *     {@link Kind#ACCURACY} (every golden sample through the reference runtime; any host)
 * @param artifact the variant's {@code .mlpackage} archive
 * @param runtimeId the runtime to use ({@code coreml}, {@code reference-cpu})
 * @param goldenInputs the version's golden input samples (GoldenOutputsCodec blob, tensors keyed by input name)
 * @param goldenOutputs the FP32 outputs for those samples (keyed by output name)
 * @param expiresAt when the lease returns to the queue unless a heartbeat extends it
 */
public record JobLease(String leaseId, String jobId, int attempt, Kind kind, String model, int version, String variantId,
        ArtifactRef artifact, String runtimeId, RuntimeOptions options, BenchmarkProtocol protocol,
        ArtifactRef goldenInputs, ArtifactRef goldenOutputs, Instant expiresAt) {

    public enum Kind { BENCHMARK, ACCURACY }

    public JobLease {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(artifact, "artifact");
        Objects.requireNonNull(runtimeId, "runtimeId");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(goldenInputs, "goldenInputs");
        Objects.requireNonNull(goldenOutputs, "goldenOutputs");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
        }
    }
}
