package io.aneforge.registry.resolve;

import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.variant.Variants;
import io.aneforge.variant.Precision;
import io.aneforge.variant.PrecisionSelector;
import java.util.Locale;

/**
 * What an app asked resolve to keep ({@code precision=}, {@code layout=}): the rule then runs over the variants
 * that match, so an app can ask for fp16 on a device whose OS allows a newer quantized variant.
 *
 * @param precision null (any), or a {@link PrecisionSelector}: a registry family ({@link Variants#PRECISIONS}: every
 *                  variant of that family, e.g. {@code int8} is per-channel and every block size, {@code w8a8} both
 *                  activation modes), a full precision id in its canonical form ({@link Precision#id()}, e.g.
 *                  {@code int8-block32} or {@code w8a8-affine}: exactly that scheme), or {@code w8a8-symmetric}
 *                  (symmetric w8a8 alone: {@code w8a8} kept meaning the family, as {@code int8} does)
 * @param layout    null (any) or one of {@link Variants#LAYOUTS}
 */
record VariantFilter(PrecisionSelector precision, String layout) {

    static final VariantFilter NONE = new VariantFilter(null, null);

    /**
     * @throws ApiProblem 400 {@code invalid-parameter} naming the parameter and its allowed values: for a layout
     *     {@code allowed}; for a precision {@code allowed} (the families, as before full ids were accepted) and
     *     {@code allowedExact} (the forms that select one precision: full ids as patterns, {@code w8a8-symmetric})
     */
    static VariantFilter of(String precision, String layout) {
        PrecisionSelector p = null;
        if (precision != null) {
            try {
                p = PrecisionSelector.parse(precision);
            } catch (IllegalArgumentException e) {
                throw ApiProblem.badRequest("invalid-parameter", "Invalid parameter", "precision " + e.getMessage())
                        .with("parameter", "precision").with("allowed", PrecisionSelector.FAMILIES)
                        .with("allowedExact", PrecisionSelector.EXACT_FORMS);
            }
        }
        String l = null;
        if (layout != null) {
            l = layout.trim().toLowerCase(Locale.ROOT);
            if (!Variants.LAYOUTS.contains(l)) {
                throw ApiProblem.badRequest("invalid-parameter", "Invalid parameter",
                                "layout '" + layout + "' is not a layout; use one of " + Variants.LAYOUTS)
                        .with("parameter", "layout").with("allowed", Variants.LAYOUTS);
            }
        }
        return p == null && l == null ? NONE : new VariantFilter(p, l);
    }

    boolean isEmpty() {
        return precision == null && layout == null;
    }

    /** Whether a variant with these registry fields passes the filter. */
    boolean matches(String variantLayout, String family, Integer blockSize, String quantization) {
        if (layout != null && !layout.equals(variantLayout)) return false;
        return precision == null || precision.matches(family, precisionOf(family, blockSize, quantization));
    }

    /**
     * The precision of a variant's registry fields, or null for a legacy row that names no full scheme: registrations
     * before block sizes were required stored {@code int4} without one, and the schema still allows it. Such a row
     * matches its family ({@code precision=int4}) and no full id. Never throws, so such a row cannot turn a filtered
     * resolve into a 500.
     */
    private static Precision precisionOf(String family, Integer blockSize, String quantization) {
        try {
            return Precision.ofRegistry(family, blockSize, quantization);
        } catch (IllegalArgumentException legacy) {
            return null;
        }
    }

    /**
     * The name an app passes as {@code precision=} to get exactly this variant's precision
     * ({@link PrecisionSelector#nameOf}: {@code w8a8-symmetric} for symmetric w8a8, whose id is also the family's name),
     * or its family for a legacy row: a refusal lists these, so each one listed asks for what it names.
     */
    static String precisionName(String family, Integer blockSize, String quantization) {
        Precision p = precisionOf(family, blockSize, quantization);
        return p == null ? family : PrecisionSelector.nameOf(p);
    }

    /** For details: {@code precision=fp16, layout=ane}. */
    String describe() {
        return (precision == null ? "" : "precision=" + precision) + (precision != null && layout != null ? ", " : "")
                + (layout == null ? "" : "layout=" + layout);
    }
}
