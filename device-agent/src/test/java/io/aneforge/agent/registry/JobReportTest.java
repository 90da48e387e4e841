package io.aneforge.agent.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.runtime.RuntimeOptions;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobReportTest {

    private static final JobLease LEASE = new JobLease("lease-1", "job-1", JobLease.Kind.BENCHMARK, "variant-1",
            new ArtifactRef("ab".repeat(32), 10, URI.create("http://registry/blobs/x")), "coreml",
            new RuntimeOptions("cpuAndNeuralEngine", false, 0), BenchmarkProtocol.defaults(),
            URI.create("http://registry/golden/1"), Instant.parse("2026-01-01T00:10:00Z"));

    @Test
    void failedReportsMustSayWhyAndSucceededOnesMustNot() {
        assertThat(JobReport.failed(LEASE, "Core ML could not compile x").failure()).isEqualTo("Core ML could not compile x");
        assertThatThrownBy(() -> JobReport.failed(LEASE, " "))
                .hasMessage("a failed report for lease lease-1 must say why");
        assertThatThrownBy(() -> new JobReport("lease-1", "job-1", JobReport.Outcome.SUCCEEDED, null,
                Map.of("pooled", 0.9999), "oops"))
                .hasMessageContaining("a succeeded report for lease lease-1 carries a failure");
    }

    @Test
    void registrationNeedsAPositiveHeartbeat() {
        assertThatThrownBy(() -> new AgentRegistration("a1", Duration.ZERO))
                .hasMessageContaining("heartbeatInterval must be positive");
    }
}
