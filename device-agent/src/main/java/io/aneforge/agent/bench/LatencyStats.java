package io.aneforge.agent.bench;

import java.util.Arrays;

/**
 * Summary of per-prediction latencies, in milliseconds.
 *
 * <p>Percentiles use the <b>nearest-rank</b> definition: p<sub>q</sub> is the smallest
 * sample such that at least q% of the samples are less than or equal to it, i.e. the
 * sample at 1-based rank {@code ceil(q/100 * n)} of the sorted samples. It is always an
 * observed value (no interpolation), so p99 of 100 samples is the 99th smallest and p99 of
 * 10 samples is the largest. {@code stddev} is the sample standard deviation (divisor
 * n-1; 0 for a single sample).
 */
public record LatencyStats(int n, double minMs, double p50Ms, double p90Ms, double p99Ms, double maxMs,
        double meanMs, double stddevMs) {

    public LatencyStats {
        if (n < 1) {
            throw new IllegalArgumentException("latency stats need at least one sample, got n=" + n);
        }
        if (!(minMs <= p50Ms && p50Ms <= p90Ms && p90Ms <= p99Ms && p99Ms <= maxMs)) {
            throw new IllegalStateException("percentiles out of order: min=" + minMs + " p50=" + p50Ms + " p90=" + p90Ms
                    + " p99=" + p99Ms + " max=" + maxMs);
        }
        if (stddevMs < 0) {
            throw new IllegalStateException("negative stddev " + stddevMs);
        }
    }

    /** Stats of durations given in nanoseconds. */
    public static LatencyStats ofNanos(long[] nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("latency stats need at least one sample, got none");
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double sum = 0;
        for (long v : sorted) {
            sum += v;
        }
        double mean = sum / n;
        double squares = 0;
        for (long v : sorted) {
            squares += (v - mean) * (v - mean);
        }
        double stddev = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
        return new LatencyStats(n, ms(sorted[0]), ms(nearestRank(sorted, 50)), ms(nearestRank(sorted, 90)),
                ms(nearestRank(sorted, 99)), ms(sorted[n - 1]), ms(mean), ms(stddev));
    }

    /** The nearest-rank percentile of ascending samples: the sample at 1-based rank ceil(q/100 * n). */
    static long nearestRank(long[] sorted, int q) {
        if (q <= 0 || q > 100) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + q);
        }
        // ceil(q * n / 100) in exact integer arithmetic (0.99 * 100 is not exactly 99 in binary floating point)
        long rank = ((long) q * sorted.length + 99) / 100;
        return sorted[(int) Math.max(rank, 1) - 1];
    }

    private static double ms(double nanos) {
        return nanos / 1_000_000.0;
    }
}
