package io.aneforge.agent.registry;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.runtime.RuntimeOptions;
import java.net.URI;
import java.time.Instant;
import java.util.Objects;

/**
 * One leased job.
 *
 * @param kind {@link Kind#BENCHMARK} (latency on this chip, plus accuracy) or
 *     {@link Kind#ACCURACY} (outputs only; any host with the reference runtime)
 * @param artifact the variant's {@code .mlpackage} archive
 * @param runtimeId the runtime to use ({@code coreml}, {@code reference-cpu})
 * @param goldenUrl where the golden inputs and FP32 outputs of the model version are
 * @param expiresAt when the lease returns to the queue unless a heartbeat extends it
 */
public record JobLease(String leaseId, String jobId, Kind kind, String variantId, ArtifactRef artifact,
        String runtimeId, RuntimeOptions options, BenchmarkProtocol protocol, URI goldenUrl, Instant expiresAt) {

    public enum Kind { BENCHMARK, ACCURACY }

    public JobLease {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(artifact, "artifact");
        Objects.requireNonNull(runtimeId, "runtimeId");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }
}
