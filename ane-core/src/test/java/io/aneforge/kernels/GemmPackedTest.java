package io.aneforge.kernels;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The packed fast GEMM against the scalar triple loop on awkward shapes (odd M, K not a multiple of 4, N over a tile). */
class GemmPackedTest {

    /** Gaussian floats; shared with {@link GemmVectorTest}. */
    static float[] random(SplittableRandom r, int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = (float) r.nextGaussian();
        }
        return d;
    }

    @Test
    void matchesScalarOnAwkwardShapes() {
        SplittableRandom r = new SplittableRandom(9);
        // {3, 3100, 5}: wider than Gemm.MAX_TILE, so several tiles with a shorter last one
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 300, 13}, {34, 257, 64}, {5, 512, 2}, {2, 3, 0}, {3, 3100, 5}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean ta : new boolean[]{false, true}) {
                for (boolean tb : new boolean[]{false, true}) {
                    float[] a = random(r, m * k + 3);
                    float[] b = random(r, k * n + 5);
                    int lda = ta ? m : k;
                    int ldb = tb ? k : n;
                    float[] want = new float[m * n];
                    float[] got = new float[m * n];
                    java.util.Arrays.fill(got, Float.NaN); // every element must be written
                    Gemm.scalar(m, n, k, a, 3, lda, ta, b, 5, ldb, tb, want, 0, n);
                    Gemm.fast(m, n, k, a, 3, lda, ta, b, 5, ldb, tb, got, 0, n, true);
                    for (int i = 0; i < want.length; i++) {
                        assertThat(got[i]).as("m=%d n=%d k=%d ta=%s tb=%s at %d", m, n, k, ta, tb, i)
                                .isCloseTo(want[i], org.assertj.core.api.Assertions.within(1e-4f * (1 + Math.abs(want[i]))));
                    }
                }
            }
        }
    }

    @Test
    void prepackedWithBiasAddsOneValuePerColumn() {
        SplittableRandom r = new SplittableRandom(2);
        int m = 7, n = 270, k = 9;
        float[] a = random(r, m * k);
        float[] w = random(r, n * k); // [out, in] like a linear weight
        float[] bias = random(r, n);
        Gemm.Packed packed = Gemm.pack(k, n, w, 0, k, true);
        assertThat(packed.k()).isEqualTo(k);
        assertThat(packed.n()).isEqualTo(n);
        float[] got = new float[m * n];
        Gemm.fast(m, a, 0, k, false, packed, bias, got, 0, n, false);
        float[] want = new float[m * n];
        Gemm.scalar(m, n, k, a, 0, k, false, w, 0, k, true, want, 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertThat(got[i * n + j]).isCloseTo(want[i * n + j] + bias[j], org.assertj.core.api.Assertions.within(1e-4f));
            }
        }
    }
}
