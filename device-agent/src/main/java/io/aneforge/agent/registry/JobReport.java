package io.aneforge.agent.registry;

import io.aneforge.agent.bench.BenchmarkResult;
import io.aneforge.agent.bench.Provenance;
import io.aneforge.eval.FidelityReport;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a lease. A succeeded job carries its provenance and the fidelity of each output
 * against the golden FP32 outputs; a succeeded benchmark also its {@link BenchmarkResult}. A failed
 * job carries the error message instead (and the provenance when it got far enough to have one).
 */
public record JobReport(String leaseId, String jobId, Outcome outcome, Provenance provenance,
        BenchmarkResult benchmark, Map<String, FidelityReport> fidelity, String failure) {

    public enum Outcome { SUCCEEDED, FAILED }

    public JobReport {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(outcome, "outcome");
        fidelity = fidelity == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fidelity));
        if (outcome == Outcome.FAILED && (failure == null || failure.isBlank())) {
            throw new IllegalArgumentException("a failed report for lease " + leaseId + " must say why");
        }
        if (outcome == Outcome.SUCCEEDED) {
            if (failure != null) {
                throw new IllegalArgumentException("a succeeded report for lease " + leaseId + " carries a failure: "
                        + failure);
            }
            Objects.requireNonNull(provenance, "a succeeded report needs its provenance");
            if (fidelity.isEmpty()) {
                throw new IllegalArgumentException("a succeeded report for lease " + leaseId
                        + " must compare at least one output with the golden outputs");
            }
        }
    }

    public static JobReport failed(JobLease lease, String why) {
        return new JobReport(lease.leaseId(), lease.jobId(), Outcome.FAILED, null, null, Map.of(), why);
    }

    public static JobReport succeeded(JobLease lease, Provenance provenance, BenchmarkResult benchmark,
            Map<String, FidelityReport> fidelity) {
        return new JobReport(lease.leaseId(), lease.jobId(), Outcome.SUCCEEDED, provenance, benchmark, fidelity, null);
    }
}
