package io.aneforge.agent.golden;

import io.aneforge.tensor.FloatTensor;

/**
 * Test outputs in the ANE layout: what a variant converted for the Neural Engine answers, which the comparison
 * transposes back ({@link GoldenComparison#align}). Shared by the tests that feed such outputs to a comparison
 * directly and through a made-up runtime.
 */
public final class AneLayoutOutputs {
    private AneLayoutOutputs() {
    }

    /** {@code t} {@code (1, S, C)} in the ANE layout {@code (1, C, 1, S)}. */
    public static FloatTensor aneLayout(FloatTensor t) {
        int s = t.shape()[1];
        int c = t.shape()[2];
        float[] dst = new float[s * c];
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < s; p++) dst[ch * s + p] = t.data()[p * c + ch];
        }
        return new FloatTensor(new int[] {1, c, 1, s}, dst);
    }
}
