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
 * @param attentionChunk query chunk for attention in the ane layout; 0 = no chunking, else
 *     {@value #MIN_CHUNK}..seqLen. Sequences above 512 default to 512 (CONVERTER.md §2). A chunk need not
 *     divide the sequence: the last chunk is shorter, and the result is exact either way
 */
public record VariantSpec(String chip, Target target, Layout layout, Precision precision, int seqLen,
                          int attentionChunk) {

    public static final int DEFAULT_CHUNK = 512;
    /**
     * The smallest attention chunk. Every chunk adds its own slice, products, softmax and concat per head and
     * layer, so the graph grows with seqLen / chunk (a chunk of 1 at 8192 tokens took 75 s to convert and wrote a
     * 49 MB model.mlmodel) while a 64-query chunk's scores are already small (64 x 8192 floats per head, 2 MB):
     * smaller chunks add ops and save next to nothing.
     */
    public static final int MIN_CHUNK = 64;
    /**
     * The shortest static sequence: the tokenizers need room for two tokens (a BERT input is at least [CLS] [SEP];
     * the native tokenizer refuses fewer for GPT-2 too), and the golden data, fidelity, eval and predict tokenize at
     * this length. The one bound the CLI, the recipes and the registry all apply.
     */
    public static final int MIN_SEQ_LEN = 2;
    /** The longest static sequence a variant is built for. */
    public static final int MAX_SEQ_LEN = 8192;

    /** Why {@code seqLen} cannot be a variant's sequence length ({@value #MIN_SEQ_LEN}..{@value #MAX_SEQ_LEN}), or null. */
    public static String seqLenProblem(int seqLen) {
        if (seqLen < MIN_SEQ_LEN) {
            return "sequence length " + seqLen + " is too short: at least " + MIN_SEQ_LEN + " (room for the tokenizer's two"
                    + " special tokens, [CLS] and [SEP] of a BERT input)";
        }
        return seqLen > MAX_SEQ_LEN ? "sequence length " + seqLen + " is more than " + MAX_SEQ_LEN : null;
    }

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
        String seqProblem = seqLenProblem(seqLen);
        if (seqProblem != null) {
            throw new IllegalArgumentException(seqProblem);
        }
        if (attentionChunk < 0 || attentionChunk > seqLen) {
            throw new IllegalArgumentException("attention chunk must be in 0..seqLen (" + seqLen + "), got " + attentionChunk);
        }
        if (attentionChunk > 0 && attentionChunk < MIN_CHUNK) {
            throw new IllegalArgumentException("attention chunk must be 0 (none) or at least " + MIN_CHUNK + ", got "
                    + attentionChunk + ": smaller chunks multiply the graph's ops by seqLen / chunk and save almost no memory");
        }
        if (attentionChunk > 0 && layout != Layout.ANE) {
            throw new IllegalArgumentException("chunked attention exists only in the ane layout");
        }
    }

    /** A spec with the default chunking: 512-token query chunks above 512 tokens in the ane layout. */
    public static VariantSpec of(String chip, Target target, Layout layout, Precision precision, int seqLen) {
        return new VariantSpec(chip, target, layout, precision, seqLen, defaultChunk(layout, seqLen));
    }

    /** The chunk a variant gets when none is asked for: {@value #DEFAULT_CHUNK} above 512 tokens in the ane layout, else 0. */
    public static int defaultChunk(Layout layout, int seqLen) {
        return layout == Layout.ANE && seqLen > DEFAULT_CHUNK ? DEFAULT_CHUNK : 0;
    }

    /** Stable id, e.g. {@code a17_pro-ios18-ane-int8-block32-s128}: the chip, then {@link #buildId()}. */
    public String id() {
        return chip.toLowerCase(Locale.ROOT) + "-" + buildId();
    }

    /**
     * What the package is built from, e.g. {@code ios18-ane-int8-block32-s128}: everything but the chip. The chip
     * picks which variants a device gets and which latency gate applies; it changes nothing in the program or its
     * weights, so it is not written into the package, and variants with the same build id have the same bytes.
     * A conversion builds each build id once and registers it for each of its chips; it also names the package
     * files ({@code ios18-ane-int8-block32-s128.mlpackage}).
     */
    public String buildId() {
        return target.name().toLowerCase(Locale.ROOT) + "-" + layout.id() + "-" + precision.id() + "-s" + seqLen
                + (attentionChunk > 0 ? "-c" + attentionChunk : "");
    }
}
