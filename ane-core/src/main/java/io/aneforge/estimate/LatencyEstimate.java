package io.aneforge.estimate;

import java.util.Objects;

/**
 * An estimated latency range for one variant on one chip. Never a measurement: {@link #source()}
 * is always {@code "estimated"} (a component, so it survives JSON serialization).
 *
 * @param chip    chip id from the catalog ({@code A17_PRO})
 * @param flops   FLOPs of one prediction
 * @param bytes   bytes moved in one prediction (weights + activations)
 * @param lowMs   roofline time: max(FLOPs / peak ops, bytes / bandwidth)
 * @param highMs  {@code lowMs / }{@link Roofline#ACHIEVABLE_EFFICIENCY}
 * @param boundBy the roof that sets {@code lowMs}; COMPUTE when the bandwidth is unknown
 * @param basis   one human-readable paragraph: the inputs, the roofs and the assumptions
 * @param source  always {@code "estimated"}
 */
public record LatencyEstimate(String chip, long flops, long bytes, double lowMs, double highMs, Bound boundBy,
                              String basis, String source) {

    public static final String SOURCE = "estimated";

    public LatencyEstimate {
        Objects.requireNonNull(chip, "chip");
        Objects.requireNonNull(boundBy, "boundBy");
        Objects.requireNonNull(basis, "basis");
        if (!SOURCE.equals(source)) {
            throw new IllegalArgumentException("a latency estimate's source must be '" + SOURCE + "', got '" + source + "'");
        }
        if (flops < 0 || bytes < 0) {
            throw new IllegalArgumentException("flops and bytes must be non-negative");
        }
        if (!(lowMs >= 0) || !(highMs >= lowMs)) {
            throw new IllegalArgumentException("need 0 <= lowMs <= highMs, got " + lowMs + " .. " + highMs);
        }
    }

    public LatencyEstimate(String chip, long flops, long bytes, double lowMs, double highMs, Bound boundBy, String basis) {
        this(chip, flops, bytes, lowMs, highMs, boundBy, basis, SOURCE);
    }

    /** True when {@code ms} falls inside the estimated range. */
    public boolean contains(double ms) {
        return ms >= lowMs && ms <= highMs;
    }
}
