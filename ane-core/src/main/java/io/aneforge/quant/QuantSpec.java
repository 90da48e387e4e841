package io.aneforge.quant;

import java.util.Set;

/**
 * What to do with one weight tensor.
 *
 * @param kind         FP16, per-output-channel, or per-block along the input axis
 * @param type         integer storage type (ignored for FP16)
 * @param mode         symmetric or affine (ignored for FP16)
 * @param blockSize    elements of the input axis per block (per-block only: 32, 64 or 128)
 * @param minElements  tensors with at most this many elements stay FP16 (coremltools: 2048)
 * @param scaleFit     how each group's scale (and zero point) is chosen: {@link ScaleFit#RANGE} is
 *                     coremltools' formula and the default; {@link ScaleFit#MSE} searches clipped
 *                     scales for the smallest squared error (ignored for FP16, which has none)
 */
public record QuantSpec(Kind kind, QuantType type, QuantMode mode, int blockSize, int minElements, ScaleFit scaleFit) {

    /** coremltools quantizes only weights with more than 2048 elements by default. */
    public static final int DEFAULT_MIN_ELEMENTS = 2048;
    public static final Set<Integer> BLOCK_SIZES = Set.of(32, 64, 128);

    public enum Kind {
        /** plain FP16 const (iOS 15). */
        FP16,
        /** {@code constexpr_affine_dequantize}, scale/zero point per output channel, axis 0 (iOS 16). */
        PER_CHANNEL,
        /** {@code constexpr_blockwise_shift_scale}, blocks along the input axis (iOS 18). */
        PER_BLOCK
    }

    /** How a group's scale is chosen. */
    public enum ScaleFit {
        /** From the group's range (COREML_FORMAT.md §5): bit-compatible with coremltools. */
        RANGE,
        /** Clip search: the FP16 scale (affine: and zero point) with the least squared error of the group ({@link ClipSearch}). */
        MSE,
        /**
         * GPTQ ({@link Gptq}): each input column is rounded in turn and its error spread over the columns not yet
         * rounded, weighted by what calibration inputs made of them; the scales and zero points are the range
         * fit's, only the integers change. Needs the weight's {@link InputGram}; block-wise only.
         */
        GPTQ
    }

    /** The coremltools scale fit ({@link ScaleFit#RANGE}). */
    public QuantSpec(Kind kind, QuantType type, QuantMode mode, int blockSize, int minElements) {
        this(kind, type, mode, blockSize, minElements, ScaleFit.RANGE);
    }

    public QuantSpec {
        if (kind == null) {
            throw new IllegalArgumentException("quantization kind is required");
        }
        if (scaleFit == null) {
            throw new IllegalArgumentException("scale fit is required (RANGE is coremltools' choice)");
        }
        if (kind == Kind.FP16 && scaleFit != ScaleFit.RANGE) {
            throw new IllegalArgumentException("fp16 has no scales to fit, got scale fit " + scaleFit);
        }
        if (minElements < 0) {
            throw new IllegalArgumentException("minElements must be >= 0, got " + minElements);
        }
        if (kind != Kind.FP16) {
            if (type == null || mode == null) {
                throw new IllegalArgumentException(kind + " quantization needs a type and a mode");
            }
        }
        if (kind == Kind.PER_CHANNEL && type.bits() != 8) {
            throw new IllegalArgumentException("per-channel quantization (constexpr_affine_dequantize, iOS 16) "
                    + "supports int8/uint8 only, got " + type + "; use PER_BLOCK for 4-bit weights");
        }
        if (kind == Kind.PER_BLOCK && !BLOCK_SIZES.contains(blockSize)) {
            throw new IllegalArgumentException("block size must be one of 32, 64, 128, got " + blockSize);
        }
        if (scaleFit == ScaleFit.GPTQ && kind != Kind.PER_BLOCK) {
            throw new IllegalArgumentException("GPTQ applies to block-wise quantization only, got " + kind);
        }
        if (kind != Kind.PER_BLOCK && blockSize != 0) {
            throw new IllegalArgumentException(kind + " has no block size, got " + blockSize);
        }
    }

    public static QuantSpec fp16() {
        return new QuantSpec(Kind.FP16, null, null, 0, DEFAULT_MIN_ELEMENTS);
    }

    public static QuantSpec perChannel(QuantType type, QuantMode mode) {
        return new QuantSpec(Kind.PER_CHANNEL, type, mode, 0, DEFAULT_MIN_ELEMENTS);
    }

    public static QuantSpec perBlock(QuantType type, QuantMode mode, int blockSize) {
        return new QuantSpec(Kind.PER_BLOCK, type, mode, blockSize, DEFAULT_MIN_ELEMENTS);
    }

    public QuantSpec withMinElements(int min) {
        return new QuantSpec(kind, type, mode, blockSize, min, scaleFit);
    }

    public QuantSpec withScaleFit(ScaleFit fit) {
        return new QuantSpec(kind, type, mode, blockSize, minElements, fit);
    }

    /**
     * Short stable label, e.g. {@code fp16}, {@code int8-per-channel-affine}, {@code int4-block32-symmetric},
     * {@code int4-block32-affine-mse} (the clip search), {@code int4-block32-symmetric-gptq}: the fit's suffix only
     * when it is not the default.
     */
    public String label() {
        if (kind == Kind.FP16) {
            return "fp16";
        }
        String granularity = kind == Kind.PER_CHANNEL ? "per-channel" : "block" + blockSize;
        return type.name().toLowerCase() + "-" + granularity + "-" + mode.name().toLowerCase()
                + (scaleFit == ScaleFit.RANGE ? "" : "-" + scaleFit.name().toLowerCase());
    }
}
