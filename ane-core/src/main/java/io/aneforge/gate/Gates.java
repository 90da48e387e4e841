package io.aneforge.gate;

import io.aneforge.variant.PrecisionSelector;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The limits a model version must meet before an alias may point at it. Every limit is
 * optional (null = not gated). Plain JSON shape:
 * {@code {"minCosine":0.999,"minCosineByPrecision":{"w8a8-affine":0.95},"maxP50Ms":{"A17_PRO":3.0},
 * "maxArtifactBytes":50000000,"maxP50MsDefault":8.0}}.
 *
 * @param minCosine        lowest acceptable cosine similarity of a variant's outputs to the golden
 *                         FP32 outputs, in (0, 1]; the cell passes when {@code cosine >= minCosine}
 * @param minCosineByPrecision per precision, a cosine limit of its own in (0, 1] that replaces {@code minCosine}
 *                         for the variants it selects (higher or lower: int8 activations cannot reach what fp16
 *                         reaches). Keys are {@link PrecisionSelector} names: a full precision id
 *                         ({@code w8a8-affine}, {@code int4-block32-affine-gptq}, {@code int8-channel}) or
 *                         {@code w8a8-symmetric} for exactly that precision, a family ({@code int4}, {@code w8a8})
 *                         for the rest of it; a variant's limit is its own precision's entry, else its family's,
 *                         else {@code minCosine} ({@link #cosineLimit})
 * @param maxP50Ms         per chip id, the highest acceptable median latency in milliseconds
 * @param maxArtifactBytes highest acceptable size of a variant's archive in bytes
 * @param maxP50MsDefault  latency limit for chips not listed in {@code maxP50Ms}
 */
public record Gates(Double minCosine, Map<String, Double> minCosineByPrecision, Map<String, Double> maxP50Ms,
                    Long maxArtifactBytes, Double maxP50MsDefault) {

    private static final Pattern CHIP = Pattern.compile("[A-Z][A-Z0-9_]{1,15}");

    /** No gates at all: every variant passes. */
    public static final Gates NONE = new Gates(null, Map.of(), Map.of(), null, null);

    /**
     * Gates without per-precision cosine limits: {@code minCosine} gates every precision, as every gate did before
     * {@code minCosineByPrecision}. A named factory, not a second constructor: both would take a
     * {@code Map<String, Double>} second, one meaning chip latencies and the other precision cosines.
     */
    public static Gates withoutPerPrecisionLimits(Double minCosine, Map<String, Double> maxP50Ms, Long maxArtifactBytes,
                                                  Double maxP50MsDefault) {
        return new Gates(minCosine, Map.of(), maxP50Ms, maxArtifactBytes, maxP50MsDefault);
    }

    /** Whether these gates set no limit at all (as {@link #NONE}, e.g. after {@code PUT .../gates {}}). */
    public boolean checksNothing() {
        return minCosine == null && minCosineByPrecision.isEmpty() && maxP50Ms.isEmpty() && maxArtifactBytes == null
                && maxP50MsDefault == null;
    }

    public Gates {
        if (minCosine != null && !(minCosine > 0 && minCosine <= 1)) {
            throw new InvalidGatesException("gates.minCosine must be in (0, 1], got " + minCosine
                    + " (e.g. 0.999 for int8 variants, 0.9999 for fp16)");
        }
        Map<String, Double> byPrecision = new LinkedHashMap<>();
        if (minCosineByPrecision != null) {
            for (Map.Entry<String, Double> e : minCosineByPrecision.entrySet()) {
                String key = e.getKey();
                PrecisionSelector selector;
                try {
                    selector = PrecisionSelector.parse(key);
                } catch (IllegalArgumentException bad) {
                    // the selector's message: the forms, after what is wrong with a known one
                    throw new InvalidGatesException("gates.minCosineByPrecision: key " + bad.getMessage());
                }
                if (!selector.name().equals(key)) {
                    // one spelling per precision, so two keys can never name the same variants
                    throw new InvalidGatesException("gates.minCosineByPrecision: write key '" + key + "' as '"
                            + selector.name() + "'");
                }
                Double v = e.getValue();
                if (v == null || !(v > 0 && v <= 1)) {
                    throw new InvalidGatesException("gates.minCosineByPrecision." + key + " must be in (0, 1], got " + v
                            + " (e.g. 0.95 for w8a8-affine, 0.98 for int4; remove the key to use minCosine)");
                }
                byPrecision.put(key, v);
            }
        }
        minCosineByPrecision = Collections.unmodifiableMap(byPrecision);
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

    /**
     * The cosine limit of a variant of precision {@code precision}: the entry of its own precision, else of its family,
     * else {@code minCosine}; null when none is set (not gated). A null {@code precision} (not known) gets
     * {@code minCosine}.
     */
    public Double cosineLimit(PrecisionSelector precision) {
        String key = cosineLimitKey(precision);
        return key != null ? minCosineByPrecision.get(key) : minCosine;
    }

    /**
     * The {@code minCosineByPrecision} key whose limit applies to {@code precision} ({@link #cosineLimit}), or null when
     * {@code minCosine} applies: what a message names as the limit's origin.
     */
    public String cosineLimitKey(PrecisionSelector precision) {
        if (precision == null) return null;
        if (minCosineByPrecision.containsKey(precision.name())) return precision.name();
        if (minCosineByPrecision.containsKey(precision.family())) return precision.family();
        return null;
    }

    /** The latency limit that applies to {@code chip}: its own entry, else the default, else null (not gated). */
    public Double latencyLimitMs(String chip) {
        Double own = maxP50Ms.get(chip);
        return own != null ? own : maxP50MsDefault;
    }
}
