package io.aneforge.kernels;

/**
 * {@code e^x} for {@code x ≤ 0} (softmax: {@code x − max}) in float arithmetic only, so that
 * loops over arrays vectorize: C2 (JDK 17) vectorizes float {@code + − ×} but not float↔int
 * conversions or bit casts, which every usual exp needs for {@code 2^n} (measured: such a
 * loop stays scalar; {@code Math.exp} costs ~12 ns per element), and it vectorizes a loop
 * only when its body is small (about 60 nodes), so the array version runs three passes.
 *
 * <p>Method (Cephes {@code expf}): {@code n = rint(x·log2 e)} (magic-number add),
 * {@code r = x − n·ln 2} in two exact-product steps, {@code e^r} by its degree-7 polynomial
 * on {@code |r| ≤ ln2/2}; then {@code 2^n}, {@code n ∈ [−126, 0]}, as a product of exact
 * powers of two chosen by the bits of {@code m = −n}, each bit a magic-number floor
 * ({@code b = floor(m / t)} while {@code m < 2t}), no compare. Maximum relative error about
 * 1e-7 on {@code [−87.33, 0]} ({@code FastExpTest} sweeps it and fails above 1e-6). Below
 * {@code ln(2^−126) ≈ −87.3365} (results under the smallest normal float, 1.2e-38) it
 * returns 0, so {@code −∞} (masked scores) gives 0; NaN gives NaN; positive inputs are
 * outside the contract and give 1. {@link #exp(float)} and {@link #expInPlace} do the same
 * arithmetic in the same order, so they agree bit for bit.
 */
public final class FastExp {

    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2^23: {@code (v + M) − M} rounds |v| < 2^22 to an integer, half to even. */
    private static final float MAGIC = 12582912f;
    /** ln 2 split so that {@code n·C1} is exact for |n| < 2^15 (C1 has 9 significant bits). */
    private static final float C1 = 0.693359375f;
    private static final float C2 = -2.12194440e-4f;
    /** ln(2^−126): below it the result would be subnormal; flushed to 0. */
    static final float MIN_ARG = -87.33654475f;
    /** Subtracted before the rounding add so that it floors multiples of 1/64 in [0, 2). */
    private static final float FLOOR_BIAS = 0.4999f;

    private FastExp() {
    }

    /** {@code e^x} for {@code x ≤ 0}; see the class comment for accuracy and edge cases. */
    public static float exp(float x) {
        float m = reduce(x);
        float p = poly(x);
        float f = 1f;
        float b = bit(m, 0x1p-6f);
        m -= b * 64f;
        f *= b * 0x1p-64f + (1f - b);
        b = bit(m, 0x1p-5f);
        m -= b * 32f;
        f *= b * 0x1p-32f + (1f - b);
        b = bit(m, 0x1p-4f);
        m -= b * 16f;
        f *= 1f - b * (1f - 0x1p-16f);
        b = bit(m, 0x1p-3f);
        m -= b * 8f;
        f *= 1f - b * (1f - 0x1p-8f);
        b = bit(m, 0x1p-2f);
        m -= b * 4f;
        f *= 1f - b * (1f - 0x1p-4f);
        b = bit(m, 0.5f);
        m -= b * 2f;
        f *= 1f - b * 0.75f;
        f *= 1f - m * 0.5f; // m is 0 or 1 now
        return p * f;
    }

    /**
     * {@code v[i] = e^v[i]} for {@code i < n}, with two scratch arrays of at least {@code n}
     * floats. Same results as {@link #exp(float)}.
     */
    public static void expInPlace(float[] v, int n, float[] m, float[] f) {
        reducePass(v, m, n);
        highBits(m, f, n);
        lowBits(v, m, f, n);
    }

    /** m = −n = −rint(clamp(x)·log2 e) ∈ [0, 126], and v becomes e^r times 0/1 for the underflow cut. */
    private static void reducePass(float[] v, float[] m, int n) {
        for (int i = 0; i < n; i++) {
            float x = v[i];
            m[i] = reduce(x);
            v[i] = poly(x);
        }
    }

    private static void highBits(float[] m, float[] f, int n) {
        for (int i = 0; i < n; i++) {
            float mi = m[i];
            float b = bit(mi, 0x1p-6f);
            mi -= b * 64f;
            float fi = b * 0x1p-64f + (1f - b);
            b = bit(mi, 0x1p-5f);
            mi -= b * 32f;
            fi *= b * 0x1p-32f + (1f - b);
            b = bit(mi, 0x1p-4f);
            mi -= b * 16f;
            fi *= 1f - b * (1f - 0x1p-16f);
            m[i] = mi;
            f[i] = fi;
        }
    }

    private static void lowBits(float[] v, float[] m, float[] f, int n) {
        for (int i = 0; i < n; i++) {
            float mi = m[i];
            float fi = f[i];
            float b = bit(mi, 0x1p-3f);
            mi -= b * 8f;
            fi *= 1f - b * (1f - 0x1p-8f);
            b = bit(mi, 0x1p-2f);
            mi -= b * 4f;
            fi *= 1f - b * (1f - 0x1p-4f);
            b = bit(mi, 0.5f);
            mi -= b * 2f;
            fi *= 1f - b * 0.75f;
            fi *= 1f - mi * 0.5f;
            v[i] = v[i] * fi;
        }
    }

    /** −rint(clamp(x)·log2 e): the power of two to divide by, an integer in [0, 126]. */
    private static float reduce(float x) {
        float xc = Math.min(0f, Math.max(MIN_ARG, x));
        return MAGIC - (xc * LOG2E + MAGIC);
    }

    /**
     * e^r for r = x − n·ln 2, times 1 above MIN_ARG and 0 at or below it (any float above
     * it is ≥ one ulp ≈ 7.6e-6 away, so the scaled difference clamps to exactly 1); NaN stays NaN.
     */
    private static float poly(float x) {
        float xc = Math.min(0f, Math.max(MIN_ARG, x));
        float nn = (xc * LOG2E + MAGIC) - MAGIC;
        float r = (xc - nn * C1) - nn * C2;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r * r + r + 1f;
        float keep = Math.min(1f, Math.max(0f, (x - MIN_ARG) * 1e30f));
        return p * keep;
    }

    /** floor(m·invT) for an integer m < 2t (so 0 or 1): fractions are multiples of 1/64, the bias keeps them below 0.5. */
    private static float bit(float m, float invT) {
        return ((m * invT - FLOOR_BIAS) + MAGIC) - MAGIC;
    }
}
