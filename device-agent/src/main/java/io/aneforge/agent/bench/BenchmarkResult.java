package io.aneforge.agent.bench;

import java.util.Objects;

/**
 * One measured run of one variant on one host, with its provenance.
 *
 * @param loadMs time to load the package, which for Core ML includes compiling it (or
 *     reading the compiled model from the per-OS-build cache)
 * @param firstPredictionMs the first prediction alone (Core ML specializes the model for the
 *     device here; it is typically much slower than the steady state)
 * @param warmupIterationsRun warm-up predictions actually run (fewer than the protocol asks
 *     when the time budget ran out)
 * @param latency the timed predictions
 * @param stoppedByMaxDuration true when the time budget ended the run before
 *     {@code protocol.timedIterations()} predictions were timed
 * @param peakResidentBytes peak resident set size of the agent process in bytes, -1 if unknown
 * @param peakResidentSinceLoad true when the peak was reset just before loading (Linux), false
 *     when it covers the whole process lifetime (macOS)
 */
public record BenchmarkResult(Provenance provenance, BenchmarkProtocol protocol, double loadMs,
        double firstPredictionMs, int warmupIterationsRun, LatencyStats latency, boolean stoppedByMaxDuration,
        long peakResidentBytes, boolean peakResidentSinceLoad) {

    public BenchmarkResult {
        Objects.requireNonNull(provenance, "provenance");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(latency, "latency");
        if (loadMs < 0 || firstPredictionMs < 0) {
            throw new IllegalStateException("negative time: load=" + loadMs + " first=" + firstPredictionMs);
        }
        if (latency.n() > protocol.timedIterations() || warmupIterationsRun > protocol.warmupIterations()) {
            throw new IllegalStateException("ran more iterations than the protocol asks: timed " + latency.n() + "/"
                    + protocol.timedIterations() + ", warm-up " + warmupIterationsRun + "/" + protocol.warmupIterations());
        }
        if (!stoppedByMaxDuration && latency.n() != protocol.timedIterations()) {
            throw new IllegalStateException("timed " + latency.n() + " of " + protocol.timedIterations()
                    + " iterations without hitting the time budget");
        }
    }
}
