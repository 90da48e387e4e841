package io.aneforge.quant;

import io.aneforge.kernels.Fp16;

/**
 * Scale and zero point of one group from its range, for one tensor and spec (the formulas in
 * {@link WeightQuantizer}). Shared by the reference and the fast kernel, so the two can only
 * differ in how they find the range and apply the scale. Immutable and thread-safe.
 */
final class GroupScale {

    /** Smallest positive FP16 (subnormal) value; a non-zero group's scale never goes below it. */
    static final float MIN_FP16_SCALE = 0x1p-24f;

    private final String name;
    private final boolean symmetric;
    private final boolean signed;
    private final int qmax;
    private final int lo;
    private final int hi;
    private final int symmetricZeroPoint;

    GroupScale(String name, QuantSpec spec) {
        this.name = name;
        QuantType t = spec.type();
        this.symmetric = spec.mode() == QuantMode.SYMMETRIC;
        this.signed = t.signed();
        this.qmax = (t.max() - t.min()) / 2; // int8/uint8: 127, int4/uint4: 7
        this.symmetricZeroPoint = signed ? 0 : (t.min() + t.max() + 1) / 2; // uint8: 128, uint4: 8
        this.lo = symmetric ? symmetricZeroPoint - qmax : t.min();
        this.hi = symmetric ? symmetricZeroPoint + qmax : t.max();
    }

    String name() {
        return name;
    }

    boolean symmetric() {
        return symmetric;
    }

    /** Largest |q − zero point| (int8: 127, int4: 7): the symmetric scale is {@code max|w| / qmax}. */
    int qmax() {
        return qmax;
    }

    /** Lowest stored value (symmetric: the restricted range, e.g. −127). */
    int lo() {
        return lo;
    }

    int hi() {
        return hi;
    }

    /** True when every group has zero point 0, so {@code + zp} can be skipped. */
    boolean zeroPointAlwaysZero() {
        return symmetric && symmetricZeroPoint == 0;
    }

    /**
     * Scale rounded to FP16 for a finite range {@code [mn, mx]} that includes 0 ({@code mn ≤ 0 ≤ mx}).
     * An all-zero group gets 1 (any scale reproduces it with q = zp; coremltools would divide by 0).
     */
    float scale(float mx, float mn, int group) {
        double scale = symmetric
                ? Math.max((double) mx, -(double) mn) / qmax
                : ((double) mx - mn) / (hi - lo);
        if (scale == 0) {
            return 1f;
        }
        float s = roundPositiveToFp16((float) scale);
        if (s > Fp16.MAX_VALUE) {
            throw new QuantizationException("weight tensor '" + name + "' block " + group + " needs scale " + scale
                    + ", beyond FP16 (max 65504); its weights reach " + Math.max(mx, -mn)
                    + " — rescale the layer or keep it FP16/FP32");
        }
        return s == 0f ? MIN_FP16_SCALE : s;
    }

    /**
     * {@code Fp16.round(x)} for finite {@code x > 0}, except that values that overflow FP16
     * come back as some float above 65504 instead of infinity. Runs once per 32-element block,
     * where the general conversion (sign, NaN, infinity and subnormal branches, two calls)
     * cost as much as quantizing the block. Pinned against {@code Fp16.round} in GroupScaleTest.
     */
    static float roundPositiveToFp16(float x) {
        if (x >= 0x1p-14f) {
            // Normal half: keep 10 mantissa bits, round to nearest even at bit 13 (a carry into the exponent is right).
            int b = Float.floatToRawIntBits(x);
            return Float.intBitsToFloat((b + 0xfff + ((b >>> 13) & 1)) & 0xffff_e000);
        }
        // Subnormal half, a multiple of 2^-24: floats in [0.5, 1) are spaced 2^-24, so the add rounds half to even.
        return (x + 0.5f) - 0.5f;
    }

    /**
     * {@link #scale} for a symmetric spec and {@code maxAbs = max(mx, −mn)}, in float: the
     * double quotient rounded to float equals the float quotient (double rounding is
     * innocuous for division when 53 ≥ 2·24 + 2, Figueroa 1995), and the rest is unchanged.
     */
    float symmetricScale(float maxAbs, int group) {
        if (maxAbs == 0f) {
            return 1f;
        }
        float s = roundPositiveToFp16(maxAbs / qmax);
        if (s > Fp16.MAX_VALUE) {
            throw new QuantizationException("weight tensor '" + name + "' block " + group + " needs scale "
                    + (double) maxAbs / qmax + ", beyond FP16 (max 65504); its weights reach " + maxAbs
                    + " — rescale the layer or keep it FP16/FP32");
        }
        return s == 0f ? MIN_FP16_SCALE : s;
    }

    /** Zero point for the range {@code [mn, mx]} (symmetric: the fixed mid point). */
    int zeroPoint(float mx, float mn) {
        if (symmetric) {
            return symmetricZeroPoint;
        }
        double range = (double) mx - mn;
        if (range == 0) {
            return signed ? 0 : lo;
        }
        return (int) Math.max(lo, Math.min(hi, Math.rint((lo * (double) mx - hi * (double) mn) / range)));
    }
}
