package io.aneforge.mil;

import io.aneforge.kernels.Fp16;

/**
 * IEEE 754 binary16 conversion for MIL constants. Delegates to {@link Fp16}, the one
 * FP16 implementation in {@code ane-core} (round to nearest even, subnormals, infinities,
 * NaN); kept so MIL code reads naturally. New code may call {@link Fp16} directly.
 */
public final class Half {
    private Half() {
    }

    public static float toFloat(short bits) {
        return Fp16.toFloat(bits);
    }

    public static short fromFloat(float f) {
        return Fp16.fromFloat(f);
    }

    /** Rounds a float to the nearest representable half value. */
    public static float round(float f) {
        return Fp16.round(f);
    }
}
