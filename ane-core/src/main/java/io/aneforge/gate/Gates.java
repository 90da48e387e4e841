package io.aneforge.gate;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The limits a model version must meet before an alias may point at it. Every limit is
 * optional (null = not gated). Plain JSON shape:
 * {@code {"minCosine":0.999,"maxP50Ms":{"A17_PRO":3.0},"maxArtifactBytes":50000000,"maxP50MsDefault":8.0}}.
 *
 * @param minCosine        lowest acceptable cosine similarity of a variant's outputs to the golden
 *                         FP32 outputs, in (0, 1]; the cell passes when {@code cosine >= minCosine}
 * @param maxP50Ms         per chip id, the highest acceptable median latency in milliseconds
 * @param maxArtifactBytes highest acceptable size of a variant's archive in bytes
 * @param maxP50MsDefault  latency limit for chips not listed in {@code maxP50Ms}
 */
public record Gates(Double minCosine, Map<String, Double> maxP50Ms, Long maxArtifactBytes, Double maxP50MsDefault) {

    private static final Pattern CHIP = Pattern.compile("[A-Z][A-Z0-9_]{1,15}");

    /** No gates at all: every variant passes. */
    public static final Gates NONE = new Gates(null, Map.of(), null, null);

    /** Whether these gates set no limit at all (as {@link #NONE}, e.g. after {@code PUT .../gates {}}). */
    public boolean checksNothing() {
        return minCosine == null && maxP50Ms.isEmpty() && maxArtifactBytes == null && maxP50MsDefault == null;
    }

    public Gates {
        if (minCosine != null && !(minCosine > 0 && minCosine <= 1)) {
            throw new InvalidGatesException("gates.minCosine must be in (0, 1], got " + minCosine
                    + " (e.g. 0.999 for int8 variants, 0.9999 for fp16)");
        }
        Map<String, Double> limits = new LinkedHashMap<>();
        if (maxP50Ms != null) {
            for (Map.Entry<String, Double> e : maxP50Ms.entrySet()) {
                String chip = e.getKey();
                if (chip == null || !CHIP.matcher(chip).matches()) {
                    throw new InvalidGatesException("gates.maxP50Ms: key '" + chip + "' is not a chip id like A17_PRO or M4");
                }
                requirePositive("gates.maxP50Ms." + chip, e.getValue());
                limits.put(chip, e.getValue());
            }
        }
        maxP50Ms = Collections.unmodifiableMap(limits);
        if (maxArtifactBytes != null && maxArtifactBytes <= 0) {
            throw new InvalidGatesException("gates.maxArtifactBytes must be positive, got " + maxArtifactBytes);
        }
        if (maxP50MsDefault != null) {
            requirePositive("gates.maxP50MsDefault", maxP50MsDefault);
        }
    }

    private static void requirePositive(String field, Double v) {
        if (v == null || !(v > 0) || v.isInfinite()) {
            throw new InvalidGatesException(field + " must be a positive number of milliseconds, got " + v);
        }
    }

    /** The latency limit that applies to {@code chip}: its own entry, else the default, else null (not gated). */
    public Double latencyLimitMs(String chip) {
        Double own = maxP50Ms.get(chip);
        return own != null ? own : maxP50MsDefault;
    }
}
