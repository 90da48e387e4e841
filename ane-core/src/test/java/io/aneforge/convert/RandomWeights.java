package io.aneforge.convert;

import io.aneforge.testsupport.models.RawSafetensors;
import java.util.SplittableRandom;

/**
 * Random tensors for the tiny checkpoints the conversion tests write as the Hub stores them: uniform values large
 * enough that a wrong op shows in the outputs, kept in one place so that every family's checkpoint is drawn alike.
 */
final class RandomWeights {
    private RandomWeights() {
    }

    /** Uniform in ±0.5; a LayerNorm's gamma ({@code norm} and a {@code .weight} name) near 1. */
    static void add(RawSafetensors st, SplittableRandom random, String name, boolean norm, int... shape) {
        uniform(st, random, name, norm && name.endsWith(".weight") ? 1 : 0, 1, shape);
    }

    /** Uniform in ±{@code width}/2, for a tensor whose effect must stand out (MPNet's bias table: ±2). */
    static void addScaled(RawSafetensors st, SplittableRandom random, String name, double width, int... shape) {
        uniform(st, random, name, 0, width, shape);
    }

    private static void uniform(RawSafetensors st, SplittableRandom random, String name, double center, double width,
                                int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (center + (random.nextDouble() - 0.5) * width);
        }
        st.f32(name, v, java.util.Arrays.stream(shape).asLongStream().toArray());
    }
}
