package io.aneforge.agent.bench;

import io.aneforge.agent.host.HostFacts;
import io.aneforge.runtime.RuntimeOptions;
import java.time.Instant;
import java.util.Objects;

/**
 * Where a number came from: the host (name, chip, OS version and build, CPU, memory), the
 * runtime (id and version, e.g. {@code coreml} on build 23F79), how it ran (compute units,
 * FP16 activations, threads), which artifact, and when.
 *
 * @param artifactDigest {@code sha256:<hex>} of the measured artifact, or null when the
 *     package was not fetched from the registry (local runs)
 */
public record Provenance(HostFacts host, String runtimeId, String runtimeVersion, RuntimeOptions options,
        String artifactDigest, Instant startedAt) {

    public Provenance {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(runtimeId, "runtimeId");
        Objects.requireNonNull(runtimeVersion, "runtimeVersion");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(startedAt, "startedAt");
    }
}
