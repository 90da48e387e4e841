package io.aneforge.kernels;

import io.aneforge.vector.VectorPath;

/**
 * IEEE 754 binary16 conversions (Java 17 has no {@code Float.floatToFloat16}).
 * FP32 → FP16 rounds to nearest, ties to even, like numpy's {@code astype(float16)}
 * and the Neural Engine: values ≥ 65520 become infinity, tiny values become subnormals
 * or signed zero, NaN stays NaN (payload truncated, forced quiet).
 */
public final class Fp16 {

    /** Largest finite half, 65504. */
    public static final float MAX_VALUE = 65504f;

    private Fp16() {
    }

    /** FP32 → FP16 bits, round to nearest even. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fff_ffff;
        if (abs >= 0x7f80_0000) {
            if (abs == 0x7f80_0000) {
                return (short) (sign | 0x7c00);
            }
            return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff)); // quiet NaN, top payload bits kept
        }
        if (abs >= 0x477f_f000) { // >= 65520: halfway to 65536 ties away from odd 65504, so inf
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x3880_0000) { // >= 2^-14: normal half. Rebias exponent by (127-15) << 23.
            int m = abs - 0x3800_0000;
            // Round at bit 13: add 0xfff plus the lsb that survives (ties to even); carries into the exponent are correct.
            return (short) (sign | ((m + 0xfff + ((m >>> 13) & 1)) >>> 13));
        }
        if (abs <= 0x3300_0000) { // <= 2^-25: rounds to zero (2^-25 exactly ties to even 0)
            return (short) sign;
        }
        // Subnormal half: value = k * 2^-24, k = significand >> (126 - exponent).
        int e = abs >>> 23;
        int sig = (abs & 0x7f_ffff) | 0x80_0000;
        int shift = 126 - e; // 14..24
        int k = sig >>> shift;
        int rem = sig & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (k & 1) == 1)) {
            k++; // may become 0x400, the smallest normal: still the right encoding
        }
        return (short) (sign | k);
    }

    /** FP16 bits → FP32 (exact). */
    public static float toFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f80_0000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // exact: mant < 2^10
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * Rounds one value to the nearest FP16 value, returned as FP32: bit for bit
     * {@code toFloat(fromFloat(f))} (NaN included), without the trip through the half encoding.
     * Normal halves round the float's own mantissa at bit 13 (ties to even; a carry into the
     * exponent is the right result); below 2^-14 the half grid is multiples of 2^-24, which is
     * the float grid of {@code [0.5, 1)}, so {@code (|f| + 0.5) - 0.5} rounds there (ties to even,
     * both steps otherwise exact). {@link VectorFp16} is the same computation in vector lanes;
     * Fp16Test checks both against the conversion pair.
     */
    public static float round(float f) {
        int bits = Float.floatToRawIntBits(f);
        int abs = bits & 0x7fff_ffff;
        int r;
        if (abs < 0x3880_0000) {
            r = Float.floatToRawIntBits((Float.intBitsToFloat(abs) + 0.5f) - 0.5f);
        } else if (abs < 0x477f_f000) {
            r = (abs + 0xfff + ((abs >>> 13) & 1)) & 0xffff_e000;
        } else if (abs <= 0x7f80_0000) {
            r = 0x7f80_0000; // >= 65520 overflows to infinity
        } else {
            r = 0x7fc0_0000 | (abs & 0x7f_e000); // NaN: quiet, top 9 payload bits kept, as fromFloat/toFloat do
        }
        return Float.intBitsToFloat(r | (bits & 0x8000_0000));
    }

    /**
     * {@link #fromFloat} of {@code src[from, to)} into {@code dst} while the values are within
     * ±{@link #MAX_VALUE} (weights must be): returns the index of the first value it did not
     * convert, {@code to} when it converted all. Values past a larger one, an infinity or a NaN are
     * left to the caller, which decides what such a value means. In vector lanes when the Vector API
     * kernels are on (same bits, {@code Fp16Test}).
     */
    public static int fromFloatsWithinRange(float[] src, short[] dst, int from, int to) {
        int i = VectorPath.enabled() ? VectorFp16.toHalves(src, dst, from, to) : from;
        for (; i < to; i++) {
            float v = src[i];
            if (!(Math.abs(v) <= MAX_VALUE)) {
                return i;
            }
            dst[i] = fromFloat(v);
        }
        return to;
    }

    /** Converts {@code src} to FP16 bits. */
    public static short[] fromFloats(float[] src) {
        short[] out = new short[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = fromFloat(src[i]);
        }
        return out;
    }

    /** Every half's value ({@link #toFloat} of each bit pattern), 256 KiB, built on first use. */
    private static final class Table {
        static final float[] VALUES = new float[1 << 16];

        static {
            for (int h = 0; h < VALUES.length; h++) {
                VALUES[h] = toFloat((short) h);
            }
        }
    }

    /**
     * Decodes {@code n} little-endian halves starting at element {@code from} of {@code raw} into
     * {@code dst} from {@code off}: {@link #toFloat} of each, by table or, when the Vector API kernels
     * are on, in int lanes (a loaded FP16 MiniLM decodes 23 million weights).
     */
    public static void toFloats(byte[] raw, int from, float[] dst, int off, int n) {
        if (VectorPath.enabled()) {
            VectorFp16.toFloats(raw, from, dst, off, n);
            return;
        }
        float[] values = Table.VALUES;
        for (int i = 0; i < n; i++) {
            int b = 2 * (from + i);
            dst[off + i] = values[(raw[b] & 0xff) | (raw[b + 1] & 0xff) << 8];
        }
    }

    /** {@link #toFloat} of {@code src[from, from + n)} into {@code dst} from {@code off} (read from the table). */
    public static void toFloats(short[] src, int from, float[] dst, int off, int n) {
        float[] values = Table.VALUES;
        for (int i = 0; i < n; i++) {
            dst[off + i] = values[src[from + i] & 0xffff];
        }
    }

    /** Converts FP16 bits to FP32 ({@link #toFloat} of each, read from the table). */
    public static float[] toFloats(short[] src) {
        float[] values = Table.VALUES;
        float[] out = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = values[src[i] & 0xffff];
        }
        return out;
    }

    /**
     * Rounds every element to FP16 in place ("compute like the Neural Engine": each
     * activation is stored as FP16 between ops).
     */
    public static void roundInPlace(float[] data) {
        Parallel.forRange(data.length, 1 << 16, (from, to) -> roundRange(data, from, to));
    }

    /** {@link #round} over {@code data[from, to)} in place, on the calling thread (vector lanes when the Vector API kernels are on). */
    public static void roundInPlace(float[] data, int from, int to) {
        roundRange(data, from, to);
    }

    /** A rounded copy of {@code src} (load-time weights: the source array is shared and stays as it is). */
    public static float[] rounded(float[] src) {
        float[] out = src.clone();
        roundInPlace(out);
        return out;
    }

    /** {@link #round} over {@code data[from, to)}: in vector lanes when the Vector API kernels are on. */
    static void roundRange(float[] data, int from, int to) {
        if (VectorPath.enabled()) {
            VectorFp16.round(data, from, to);
            return;
        }
        for (int i = from; i < to; i++) {
            data[i] = round(data[i]);
        }
    }
}
