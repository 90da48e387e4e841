package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;

/** Element-wise activations; elementwise work is split over {@link Parallel} in fast mode. */
public final class Activations {

    private static final double SQRT_HALF = 0.7071067811865476;
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;
    private static final int GRAIN = 1 << 14;

    private Activations() {
    }

    /** Exact GELU {@code x·Φ(x) = x/2 · erfc(−x/√2)} (erfc keeps the negative tail accurate). */
    public static float geluExact(float x) {
        double d = x;
        return (float) (0.5 * d * Erf.erfc(-d * SQRT_HALF));
    }

    /** Tanh approximation {@code x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))} (GPT-2). */
    public static float geluTanh(float x) {
        double d = x;
        return (float) (0.5 * d * (1 + Math.tanh(SQRT_2_OVER_PI * (d + 0.044715 * d * d * d))));
    }

    public static FloatTensor geluExact(FloatTensor x) {
        float[] in = x.data();
        float[] out = new float[in.length];
        body(in.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = geluExact(in[i]);
            }
        });
        return new FloatTensor(x.shape().clone(), out);
    }

    /**
     * Exact-mode GELU {@code x/2 · (1 + erf(x/√2))} with {@link Erf#erfFast}: float
     * arithmetic only, so the loop vectorizes (the double-precision {@link #geluExact} costs
     * hundreds of ns per element). Absolute error below 1e-6·(1 + |x|).
     */
    public static FloatTensor geluErfFast(FloatTensor x) {
        float[] in = x.data();
        float[] out = new float[in.length];
        body(in.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                float v = in[i];
                out[i] = 0.5f * v * (1f + Erf.erfFast(v * 0.70710678f));
            }
        });
        return new FloatTensor(x.shape().clone(), out);
    }

    public static FloatTensor geluTanh(FloatTensor x) {
        float[] in = x.data();
        float[] out = new float[in.length];
        body(in.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = geluTanh(in[i]);
            }
        });
        return new FloatTensor(x.shape().clone(), out);
    }

    private static void body(int n, Parallel.RangeBody body) {
        if (Kernels.isFast()) {
            Parallel.forRange(n, GRAIN, body);
        } else {
            body.run(0, n);
        }
    }
}
