package io.aneforge.agent.registry;

import io.aneforge.agent.bench.BenchmarkResult;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a lease. A succeeded benchmark carries its {@link BenchmarkResult} (with
 * provenance); every succeeded job carries the cosine similarity of each output with the
 * golden FP32 output. A failed job carries the error message instead.
 */
public record JobReport(String leaseId, String jobId, Outcome outcome, BenchmarkResult benchmark,
        Map<String, Double> cosineByOutput, String failure) {

    public enum Outcome { SUCCEEDED, FAILED }

    public JobReport {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(outcome, "outcome");
        cosineByOutput = cosineByOutput == null ? Map.of() : Map.copyOf(cosineByOutput);
        if (outcome == Outcome.FAILED && (failure == null || failure.isBlank())) {
            throw new IllegalArgumentException("a failed report for lease " + leaseId + " must say why");
        }
        if (outcome == Outcome.SUCCEEDED && failure != null) {
            throw new IllegalArgumentException("a succeeded report for lease " + leaseId + " carries a failure: "
                    + failure);
        }
    }

    public static JobReport failed(JobLease lease, String why) {
        return new JobReport(lease.leaseId(), lease.jobId(), Outcome.FAILED, null, Map.of(), why);
    }
}
