package io.aneforge.agent.bench;

import java.time.Duration;

/**
 * How a variant is measured; recorded with every result so that numbers taken under
 * different protocols are never compared blindly.
 *
 * @param warmupIterations predictions run after the first one and not timed (Core ML
 *     specializes and the ANE powers up during the first few)
 * @param timedIterations predictions timed one by one
 * @param maxDuration wall-clock budget for warm-up plus timed iterations; when exceeded the
 *     run stops early and the result says how many iterations it timed
 */
public record BenchmarkProtocol(int warmupIterations, int timedIterations, Duration maxDuration) {

    public BenchmarkProtocol {
        if (warmupIterations < 0) {
            throw new IllegalArgumentException("warmupIterations must be >= 0, got " + warmupIterations);
        }
        if (timedIterations < 1) {
            throw new IllegalArgumentException("timedIterations must be >= 1, got " + timedIterations);
        }
        if (maxDuration == null || maxDuration.isZero() || maxDuration.isNegative()) {
            throw new IllegalArgumentException("maxDuration must be positive, got " + maxDuration);
        }
    }

    /** 10 warm-up, 100 timed, at most 5 minutes. */
    public static BenchmarkProtocol defaults() {
        return new BenchmarkProtocol(10, 100, Duration.ofMinutes(5));
    }
}
