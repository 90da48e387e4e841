package io.aneforge.registry.resolve;

import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.variant.Variants;
import io.aneforge.variant.Precision;
import java.util.Locale;

/**
 * What an app asked resolve to keep ({@code precision=}, {@code layout=}): the rule then runs over the variants
 * that match, so an app can ask for fp16 on a device whose OS allows a newer quantized variant.
 *
 * @param precision null (any), a registry family ({@link Variants#PRECISIONS}: every variant of that family, e.g.
 *                  {@code int8} is per-channel and every block size, {@code w8a8} both activation modes), or a full
 *                  precision id in its canonical form ({@link Precision#id()}, e.g. {@code int8-block32} or
 *                  {@code w8a8-affine}: exactly that scheme). As {@code int8} names the family, not per-channel int8
 *                  alone, {@code w8a8} names both modes: no filter keeps symmetric w8a8 alone
 * @param layout    null (any) or one of {@link Variants#LAYOUTS}
 */
record VariantFilter(String precision, String layout) {

    static final VariantFilter NONE = new VariantFilter(null, null);

    /** What the 400 for an unknown precision lists. */
    static final String PRECISION_FORMS = Variants.PRECISIONS + " (any variant of that family) or a full precision id "
            + "such as int8-channel, int8-block32, int4-block32-affine, int4-block32-affine-gptq or w8a8-affine (exactly that scheme)";

    /** @throws ApiProblem 400 {@code invalid-parameter} naming the parameter and its allowed values */
    static VariantFilter of(String precision, String layout) {
        String p = null;
        if (precision != null) {
            String text = precision.trim().toLowerCase(Locale.ROOT);
            if (Variants.PRECISIONS.contains(text)) {
                p = text;
            } else {
                try {
                    p = Precision.parse(text).id();
                } catch (IllegalArgumentException e) {
                    throw ApiProblem.badRequest("invalid-parameter", "Invalid parameter",
                                    "precision '" + precision + "' is not a precision; use one of " + PRECISION_FORMS)
                            .with("parameter", "precision").with("allowed", Variants.PRECISIONS);
                }
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
        if (precision == null || precision.equals(family)) return true;
        return !Variants.PRECISIONS.contains(precision) && precision.equals(precisionId(family, blockSize, quantization));
    }

    /**
     * The full precision id of a variant's registry fields, or its family for a legacy row that names no full scheme:
     * registrations before block sizes were required stored {@code int4} without one, and the schema still allows it.
     * Such a row matches its family ({@code precision=int4}) and no full id; a refusal lists it as its family, which is
     * also what the app can ask for to get it. Never throws, so such a row cannot turn a filtered resolve into a 500.
     */
    static String precisionId(String family, Integer blockSize, String quantization) {
        try {
            return Precision.ofRegistry(family, blockSize, quantization).id();
        } catch (IllegalArgumentException legacy) {
            return family;
        }
    }

    /** For details: {@code precision=fp16, layout=ane}. */
    String describe() {
        return (precision == null ? "" : "precision=" + precision) + (precision != null && layout != null ? ", " : "")
                + (layout == null ? "" : "layout=" + layout);
    }
}
