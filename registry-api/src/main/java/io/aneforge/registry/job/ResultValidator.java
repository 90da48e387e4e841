package io.aneforge.registry.job;

import io.aneforge.registry.job.JobRecords.Benchmark;
import io.aneforge.registry.job.JobRecords.Fidelity;
import io.aneforge.registry.job.JobRecords.Latency;
import io.aneforge.registry.job.JobRecords.ProtocolReport;
import io.aneforge.registry.job.JobRecords.ProtocolView;
import io.aneforge.registry.job.JobRecords.Provenance;
import io.aneforge.registry.job.JobRecords.Report;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.variant.VariantSpec;
import java.util.Map;

/**
 * Strict checks of a report before anything is stored: every number finite and in range,
 * percentiles ordered, fidelity within its definition, provenance matching the job and the
 * agent. A report that fails any rule is refused whole ({@code 400 invalid-result}, naming the
 * field and the rule).
 */
final class ResultValidator {

    static final int MAX_FAILURE_LENGTH = 8000;
    static final int MAX_OUTPUTS = 256;

    private ResultValidator() {}

    /** What the rules need of the job a report is for. */
    record JobFacts(long id, String kind, String runtime, String computeUnits) {}

    /** What the rules need of the reporting agent: as it registered. */
    record AgentFacts(String hostName, String chip) {}

    /**
     * @param protocol the benchmark protocol the registry sends with benchmark leases: a report's protocol may be
     *                 stronger (more iterations, a longer cap), never weaker, or the matrix would show a cell measured
     *                 on fewer iterations than every other as if it were comparable
     */
    static void validate(Report r, JobFacts job, AgentFacts agent, String variantDigest, ProtocolView protocol) {
        if (r.outcome() == null || !(r.outcome().equals("succeeded") || r.outcome().equals("failed"))) {
            throw invalid("outcome", "must be 'succeeded' or 'failed', got " + quote(r.outcome()));
        }
        if (r.outcome().equals("failed")) {
            if (r.failure() == null || r.failure().isBlank()) {
                throw invalid("failure", "a failed report must say why");
            }
            if (r.failure().length() > MAX_FAILURE_LENGTH) {
                throw invalid("failure", "must be at most " + MAX_FAILURE_LENGTH + " characters");
            }
            if (r.provenance() != null) provenance(r.provenance(), job, agent, variantDigest);
            return;
        }
        if (r.failure() != null) throw invalid("failure", "a succeeded report must not carry a failure");
        if (r.provenance() == null) throw invalid("provenance", "is required: host, OS build, runtime and version");
        provenance(r.provenance(), job, agent, variantDigest);
        if (job.kind().equals(Job.BENCHMARK)) {
            if (r.protocol() == null) throw invalid("protocol", "is required for a benchmark");
            if (r.benchmark() == null) throw invalid("benchmark", "is required for a benchmark job");
            protocol(r.protocol(), protocol);
            benchmark(r.benchmark(), r.protocol());
        } else if (r.benchmark() != null) {
            throw invalid("benchmark", "an accuracy job carries no latency numbers");
        }
        if (r.fidelity() == null || r.fidelity().isEmpty()) {
            throw invalid("fidelity", "is required: the comparison of each output with the golden outputs");
        }
        if (r.fidelity().size() > MAX_OUTPUTS) throw invalid("fidelity", "more than " + MAX_OUTPUTS + " outputs");
        for (Map.Entry<String, Fidelity> e : r.fidelity().entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank() || e.getKey().length() > 256) {
                throw invalid("fidelity", "output names must be 1..256 characters");
            }
            fidelity("fidelity." + e.getKey(), e.getValue());
        }
    }

    private static void provenance(Provenance p, JobFacts job, AgentFacts agent, String variantDigest) {
        required("provenance.hostName", p.hostName());
        required("provenance.osName", p.osName());
        required("provenance.osVersion", p.osVersion());
        required("provenance.osBuild", p.osBuild());
        required("provenance.runtime", p.runtime());
        required("provenance.runtimeVersion", p.runtimeVersion());
        required("provenance.computeUnits", p.computeUnits());
        if (!p.hostName().equals(agent.hostName())) {
            throw invalid("provenance.hostName", "'" + p.hostName() + "' is not the reporting agent's host '"
                    + agent.hostName() + "'");
        }
        // The chip a number is traced to is the one the agent registered with (and was matched on for the lease);
        // a host whose chip changed registers again.
        if (p.chip() != null && !p.chip().equals(agent.chip())) {
            throw invalid("provenance.chip", "'" + p.chip() + "' is not the reporting agent's chip "
                    + (agent.chip() == null ? "(it registered without one)" : "'" + agent.chip() + "'")
                    + "; an agent whose chip changed must register again");
        }
        if (!p.runtime().equals(job.runtime())) {
            throw invalid("provenance.runtime", "'" + p.runtime() + "' but job " + job.id() + " asks for '" + job.runtime() + "'");
        }
        if (!p.computeUnits().equals(job.computeUnits())) {
            throw invalid("provenance.computeUnits", "'" + p.computeUnits() + "' but job " + job.id() + " asks for '"
                    + job.computeUnits() + "'");
        }
        if (p.artifactDigest() != null && !p.artifactDigest().equals(variantDigest)) {
            throw invalid("provenance.artifactDigest", p.artifactDigest() + " is not the variant's artifact " + variantDigest);
        }
        if (p.threads() != null && p.threads() < 0) throw invalid("provenance.threads", "must be >= 0");
        if (p.startedAt() == null) throw invalid("provenance.startedAt", "is required");
    }

    private static void protocol(ProtocolReport p, ProtocolView job) {
        if (p.warmupIterations() == null || p.warmupIterations() < job.warmupIterations()) {
            throw invalid("protocol.warmupIterations", "must be at least the job's " + job.warmupIterations() + ", got "
                    + p.warmupIterations());
        }
        if (p.timedIterations() == null || p.timedIterations() < Math.max(1, job.timedIterations())) {
            throw invalid("protocol.timedIterations", "must be at least the job's " + Math.max(1, job.timedIterations())
                    + ", got " + p.timedIterations());
        }
        if (p.maxDurationMs() == null || p.maxDurationMs() < Math.max(1, job.maxDurationMs())) {
            throw invalid("protocol.maxDurationMs", "must be at least the job's " + Math.max(1, job.maxDurationMs())
                    + " ms, got " + p.maxDurationMs());
        }
    }

    private static void benchmark(Benchmark b, ProtocolReport p) {
        nonNegative("benchmark.loadMs", b.loadMs());
        nonNegative("benchmark.firstPredictionMs", b.firstPredictionMs());
        if (b.warmupIterationsRun() == null || b.warmupIterationsRun() < 0 || b.warmupIterationsRun() > p.warmupIterations()) {
            throw invalid("benchmark.warmupIterationsRun", "must be in 0.." + p.warmupIterations() + ", got "
                    + b.warmupIterationsRun());
        }
        if (b.stoppedByMaxDuration() == null) throw invalid("benchmark.stoppedByMaxDuration", "is required");
        if (b.peakResidentBytes() == null || b.peakResidentBytes() < -1) {
            throw invalid("benchmark.peakResidentBytes", "must be -1 (unknown) or >= 0, got " + b.peakResidentBytes());
        }
        Latency l = b.latency();
        if (l == null) throw invalid("benchmark.latency", "is required");
        if (l.n() == null || l.n() < 1 || l.n() > p.timedIterations()) {
            throw invalid("benchmark.latency.n", "must be in 1.." + p.timedIterations() + ", got " + l.n());
        }
        if (!b.stoppedByMaxDuration() && l.n() != p.timedIterations().intValue()) {
            throw invalid("benchmark.latency.n", l.n() + " timed iterations of " + p.timedIterations()
                    + " without stoppedByMaxDuration");
        }
        nonNegative("benchmark.latency.minMs", l.minMs());
        nonNegative("benchmark.latency.p50Ms", l.p50Ms());
        nonNegative("benchmark.latency.p90Ms", l.p90Ms());
        nonNegative("benchmark.latency.p99Ms", l.p99Ms());
        nonNegative("benchmark.latency.maxMs", l.maxMs());
        nonNegative("benchmark.latency.meanMs", l.meanMs());
        nonNegative("benchmark.latency.stddevMs", l.stddevMs());
        if (!(l.minMs() <= l.p50Ms() && l.p50Ms() <= l.p90Ms() && l.p90Ms() <= l.p99Ms() && l.p99Ms() <= l.maxMs())) {
            throw invalid("benchmark.latency", "percentiles out of order: need min <= p50 <= p90 <= p99 <= max, got min="
                    + l.minMs() + " p50=" + l.p50Ms() + " p90=" + l.p90Ms() + " p99=" + l.p99Ms() + " max=" + l.maxMs());
        }
        if (l.meanMs() < l.minMs() || l.meanMs() > l.maxMs()) {
            throw invalid("benchmark.latency.meanMs", l.meanMs() + " is outside [min, max] = [" + l.minMs() + ", "
                    + l.maxMs() + "]");
        }
    }

    private static void fidelity(String field, Fidelity f) {
        if (f == null) throw invalid(field, "must not be null");
        if (f.positions() == null || f.positions() < 1) throw invalid(field + ".positions", "must be >= 1");
        if (f.hiddenSize() == null || f.hiddenSize() < 1) throw invalid(field + ".hiddenSize", "must be >= 1");
        cosine(field + ".cosineMean", f.cosineMean());
        cosine(field + ".cosineMin", f.cosineMin());
        cosine(field + ".cosinePooled", f.cosinePooled());
        if (f.cosineMin() > f.cosineMean() + 1e-12) {
            throw invalid(field + ".cosineMin", f.cosineMin() + " exceeds cosineMean " + f.cosineMean());
        }
        nonNegative(field + ".maxAbsError", f.maxAbsError());
        nonNegative(field + ".meanAbsError", f.meanAbsError());
        if (f.meanAbsError() > f.maxAbsError()) {
            throw invalid(field + ".meanAbsError", f.meanAbsError() + " exceeds maxAbsError " + f.maxAbsError());
        }
        if (f.psnrDb() == null || !Double.isFinite(f.psnrDb()) || f.psnrDb() > 200 || f.psnrDb() < -200) {
            throw invalid(field + ".psnrDb", "must be finite and within [-200, 200] dB, got " + f.psnrDb());
        }
        if (f.top1Agreement() != null && !(f.top1Agreement() >= 0 && f.top1Agreement() <= 1)) {
            throw invalid(field + ".top1Agreement", "must be in [0, 1] or absent, got " + f.top1Agreement());
        }
        if (f.comparedPositions() != null) {
            comparedPositions(field + ".comparedPositions", f.comparedPositions(), f.positions());
        }
    }

    /**
     * The positions a comparison against golden data held at some positions only (golden format 3) compared, per
     * sample id: as many as {@code positions} counts in all, each a sequence position below the longest sequence
     * length a variant may have ({@link VariantSpec#MAX_SEQ_LEN}), strictly ascending per sample as the golden blob
     * holds them (a repeated or unordered list is not what any agent compares, and would read as more coverage than
     * there was; the stored result stays as small as the comparison was).
     */
    private static void comparedPositions(String field, Map<String, java.util.List<Integer>> bySample, int positions) {
        long total = 0;
        for (Map.Entry<String, java.util.List<Integer>> e : bySample.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank() || e.getKey().length() > 256) {
                throw invalid(field, "sample ids must be 1..256 characters");
            }
            if (e.getValue() == null || e.getValue().isEmpty()) {
                throw invalid(field + "." + e.getKey(), "must list at least one position (leave out a sample with none)");
            }
            Integer previous = null;
            for (Integer p : e.getValue()) {
                if (p == null || p < 0 || p >= VariantSpec.MAX_SEQ_LEN) {
                    throw invalid(field + "." + e.getKey(), "positions must be sequence positions 0.."
                            + (VariantSpec.MAX_SEQ_LEN - 1) + ", got " + p);
                }
                if (previous != null && p <= previous) {
                    throw invalid(field + "." + e.getKey(), "positions must be strictly ascending, each listed once"
                            + " (as the golden data holds them), got " + p + " after " + previous);
                }
                previous = p;
            }
            total += e.getValue().size();
        }
        if (total != positions) {
            throw invalid(field, "lists " + total + " positions, but positions says " + positions + " were compared");
        }
    }

    private static void cosine(String field, Double v) {
        if (v == null || !(v >= -1 && v <= 1)) {
            throw invalid(field, "a cosine similarity must be a finite number in [-1, 1], got " + v);
        }
    }

    private static void nonNegative(String field, Double v) {
        if (v == null || !Double.isFinite(v) || v < 0) {
            throw invalid(field, "must be a finite number >= 0, got " + v);
        }
    }

    private static void required(String field, String v) {
        if (v == null || v.isBlank()) throw invalid(field, "is required");
        if (v.length() > 512) throw invalid(field, "must be at most 512 characters");
    }

    private static String quote(String s) {
        return s == null ? "null" : "'" + s + "'";
    }

    static ApiProblem invalid(String field, String rule) {
        return ApiProblem.badRequest("invalid-result", "Invalid result", "field '" + field + "' " + rule
                + "; nothing was stored — fix the report and send it again").with("field", field);
    }
}
