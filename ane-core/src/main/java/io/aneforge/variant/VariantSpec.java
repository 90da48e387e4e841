package io.aneforge.variant;

import io.aneforge.mil.Target;
import java.util.Locale;

/**
 * What one variant is: {@code (chip, deployment target, layout, precision, sequence
 * length)} plus the attention chunk for long sequences. Variants are immutable once
 * built; {@link #id()} names them everywhere (file names, registry, matrix).
 *
 * @param chip chip id from the chip catalog ({@code A17_PRO}, {@code M4}, ...)
 * @param target deployment target; must be at least {@link Precision#minimumTarget()}
 * @param layout tensor layout
 * @param precision weight precision
 * @param seqLen static sequence length (R9)
 * @param attentionChunk query chunk for attention in the ane layout; 0 = no chunking.
 *     Sequences above 512 default to 512 (CONVERTER.md §2)
 */
public record VariantSpec(String chip, Target target, Layout layout, Precision precision, int seqLen,
                          int attentionChunk) {

    public static final int DEFAULT_CHUNK = 512;

    public VariantSpec {
        if (chip == null || !chip.matches("[A-Z][A-Z0-9_]*")) {
            throw new IllegalArgumentException("chip must be a catalog id like A17_PRO, got '" + chip + "'");
        }
        if (target == null || layout == null || precision == null) {
            throw new IllegalArgumentException("target, layout and precision are required");
        }
        if (!target.atLeast(precision.minimumTarget())) {
            throw new IllegalArgumentException("precision " + precision + " needs deployment target "
                    + precision.minimumTarget().name().toLowerCase(Locale.ROOT) + " or newer, got "
                    + target.name().toLowerCase(Locale.ROOT));
        }
        if (seqLen < 1 || seqLen > 8192) {
            throw new IllegalArgumentException("sequence length must be in 1..8192, got " + seqLen);
        }
        if (attentionChunk < 0 || attentionChunk > seqLen) {
            throw new IllegalArgumentException("attention chunk must be in 0..seqLen (" + seqLen + "), got " + attentionChunk);
        }
        if (attentionChunk > 0 && layout != Layout.ANE) {
            throw new IllegalArgumentException("chunked attention exists only in the ane layout");
        }
    }

    /** A spec with the default chunking: 512-token query chunks above 512 tokens in the ane layout. */
    public static VariantSpec of(String chip, Target target, Layout layout, Precision precision, int seqLen) {
        int chunk = layout == Layout.ANE && seqLen > DEFAULT_CHUNK ? DEFAULT_CHUNK : 0;
        return new VariantSpec(chip, target, layout, precision, seqLen, chunk);
    }

    /** Stable id, e.g. {@code a17_pro-ios18-ane-int8-block32-s128}; used for file names. */
    public String id() {
        return chip.toLowerCase(Locale.ROOT) + "-" + target.name().toLowerCase(Locale.ROOT) + "-" + layout.id()
                + "-" + precision.id() + "-s" + seqLen + (attentionChunk > 0 ? "-c" + attentionChunk : "");
    }
}
