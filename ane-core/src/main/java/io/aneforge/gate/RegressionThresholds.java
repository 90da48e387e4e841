package io.aneforge.gate;

/**
 * When a cell counts as regressed against the baseline version.
 *
 * @param latencyIncrease relative p50 increase beyond which latency regressed (0.10 = +10 %)
 * @param cosineDrop      absolute cosine decrease beyond which fidelity regressed
 */
public record RegressionThresholds(double latencyIncrease, double cosineDrop) {

    /**
     * +10 % p50: the benchmark p50 of one device moves by a few percent between runs
     * (thermal state, background work), so smaller changes are mostly noise. −0.0005 cosine:
     * half the gap between the fp16 (0.9999) and int8 (0.999) fidelity targets of
     * CONVERTER.md §5; anything smaller is within the rounding noise of fp16 reductions.
     */
    public static final RegressionThresholds DEFAULT = new RegressionThresholds(0.10, 0.0005);

    public RegressionThresholds {
        if (!(latencyIncrease >= 0) || !(cosineDrop >= 0)) {
            throw new IllegalArgumentException("regression thresholds must be non-negative, got latency +"
                    + latencyIncrease + ", cosine -" + cosineDrop);
        }
    }
}
