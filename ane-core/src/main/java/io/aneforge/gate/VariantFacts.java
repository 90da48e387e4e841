package io.aneforge.gate;

import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.variant.Layout;
import io.aneforge.variant.PrecisionSelector;
import io.aneforge.variant.VariantSpec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the registry knows about one variant when gates are evaluated.
 *
 * @param variantId     the variant id ({@code VariantSpec.id()})
 * @param chip          chip id the variant is built for ({@code A17_PRO})
 * @param precision     the variant's precision ({@link PrecisionSelector#of}; a family for a registry row that names
 *                      no full precision), which picks its cosine limit ({@link Gates#cosineLimit}); null when not
 *                      known: then {@code minCosine} applies
 * @param cell          the matrix cell label used in messages, e.g. {@code "A17_PRO int8-block32"}
 * @param artifactBytes size of the archive; null while the variant is not built yet
 * @param cosine        fidelity cosine to the golden outputs; null while no accuracy result exists
 *                      (NaN — outputs with NaN or all zeros — fails any cosine gate)
 * @param p50Ms         median latency per compute-units setting ({@code cpuOnly}, {@code cpuAndGPU},
 *                      {@code cpuAndNeuralEngine}, {@code all}); a setting mapped to null is queued or
 *                      running (pending); a setting absent from the map is not planned
 * @param errors        benchmark or accuracy runs that failed for good (e.g. "cpuAndNeuralEngine: model
 *                      failed to compile"); each one fails the variant
 * @param baseline      a comparison-only variant (the standard-layout FP16 baseline of the recipe):
 *                      evaluated and shown, but left out of the version roll-up
 */
public record VariantFacts(String variantId, String chip, PrecisionSelector precision, String cell, Long artifactBytes,
                           Double cosine,
                           Map<String, Double> p50Ms, List<String> errors, boolean baseline) {

    public VariantFacts {
        Objects.requireNonNull(variantId, "variantId");
        Objects.requireNonNull(chip, "chip");
        Objects.requireNonNull(cell, "cell");
        if (artifactBytes != null && artifactBytes < 0) {
            throw new IllegalArgumentException("variant " + variantId + ": artifact size must be non-negative, got " + artifactBytes);
        }
        if (cosine != null && !cosine.isNaN() && (cosine < -1 || cosine > 1.000001)) {
            throw new IllegalArgumentException("variant " + variantId + ": cosine must be in [-1, 1], got " + cosine);
        }
        // stable order (Core ML's setting order) so messages and "best" ties never depend on map iteration
        Map<String, Double> ordered = new LinkedHashMap<>();
        Map<String, Double> given = p50Ms == null ? Map.of() : p50Ms;
        for (String key : given.keySet()) {
            if (!RuntimeOptions.COMPUTE_UNITS.contains(key)) {
                throw new IllegalArgumentException("variant " + variantId + ": unknown compute units '" + key
                        + "' in p50Ms; use one of " + RuntimeOptions.COMPUTE_UNITS);
            }
            Double v = given.get(key);
            if (v != null && !(v >= 0)) {
                throw new IllegalArgumentException("variant " + variantId + ": p50 on " + key + " must be non-negative, got " + v);
            }
        }
        for (String key : RuntimeOptions.COMPUTE_UNITS) {
            if (given.containsKey(key)) {
                ordered.put(key, given.get(key));
            }
        }
        p50Ms = Collections.unmodifiableMap(ordered);
        errors = errors == null ? List.of() : List.copyOf(errors);
    }

    /**
     * The conventional cell label: {@code "A17_PRO int8-block32"}, {@code "M2 standard fp16"}
     * for the standard-layout baseline. It leaves out the sequence length and target: a
     * caller whose version has several of those per chip and precision should append them.
     */
    public static String cellLabel(VariantSpec v) {
        return v.chip() + " " + (v.layout() == Layout.STANDARD ? "standard " : "") + v.precision().id();
    }
}
