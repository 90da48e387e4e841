package io.aneforge.agent.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.bench.BenchmarkProtocol;
import io.aneforge.agent.cache.ArtifactRef;
import io.aneforge.eval.FidelityReport;
import io.aneforge.runtime.RuntimeOptions;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobReportTest {

    private static final ArtifactRef BLOB = new ArtifactRef("ab".repeat(32), 10, URI.create("http://registry/blobs/x"));
    private static final JobLease LEASE = new JobLease("lease-1", "job-1", 1, JobLease.Kind.BENCHMARK, "m", 1,
            "variant-1", BLOB, "coreml", new RuntimeOptions("cpuAndNeuralEngine", false, 0), BenchmarkProtocol.defaults(),
            BLOB, BLOB, Instant.parse("2026-01-01T00:10:00Z"));
    private static final FidelityReport PERFECT = new FidelityReport(1, 4, 1, 1, 1, 0, 0, 200, null);

    @Test
    void failedReportsMustSayWhyAndSucceededOnesMustNot() {
        assertThat(JobReport.failed(LEASE, "Core ML could not compile x").failure()).isEqualTo("Core ML could not compile x");
        assertThatThrownBy(() -> JobReport.failed(LEASE, " "))
                .hasMessage("a failed report for lease lease-1 must say why");
        assertThatThrownBy(() -> new JobReport("lease-1", "job-1", JobReport.Outcome.SUCCEEDED, null, null,
                Map.of("pooled", PERFECT), "oops"))
                .hasMessageContaining("a succeeded report for lease lease-1 carries a failure");
    }

    @Test
    void succeededReportsCompareAtLeastOneOutput() {
        assertThatThrownBy(() -> new JobReport("lease-1", "job-1", JobReport.Outcome.SUCCEEDED, null, null,
                Map.of("pooled", PERFECT), null))
                .hasMessageContaining("a succeeded report needs its provenance");
    }

    @Test
    void leasesNeedAPositiveAttempt() {
        assertThatThrownBy(() -> new JobLease("l", "j", 0, JobLease.Kind.ACCURACY, "m", 1, "v", BLOB, "reference-cpu",
                RuntimeOptions.defaults(), BenchmarkProtocol.defaults(), BLOB, BLOB, Instant.EPOCH))
                .hasMessage("attempt must be >= 1, got 0");
    }

    @Test
    void registrationNeedsAPositiveHeartbeat() {
        assertThatThrownBy(() -> new AgentRegistration("a1", Duration.ZERO))
                .hasMessageContaining("heartbeatInterval must be positive");
    }
}
