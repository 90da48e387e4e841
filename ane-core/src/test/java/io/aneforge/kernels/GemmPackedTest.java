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

    /**
     * With hardware FMA the plain kernel gives {@link VectorGemm}'s bits: each element the {@code Math.fma} chain
     * over K in order from +0, then the bias. Shapes cross every seam of the plain kernel: an odd last row (computed
     * twice), K not a multiple of 4 (zero-padded tail), K past a K block (partial sums stored and reloaded), N past a
     * tile, A transposed; a −0 bias.
     */
    @Test
    void plainKernelIsTheFmaChainOverK() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Gemm.exactFma(), "this JVM reports no hardware FMA (UseFMA)");
        SplittableRandom r = new SplittableRandom(31);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {33, 300, 131}, {2, Gemm.MAX_TILE + 9, 6}, {7, 40, 2 * Gemm.K_BLOCK + 3},
                {64, 384, 384}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean transA : new boolean[]{false, true}) {
                int lda = transA ? m + 1 : k + 2;
                float[] a = random(r, (transA ? k : m) * lda + 1);
                float[] w = random(r, n * k); // [n, k], as a linear weight
                float[] bias = random(r, n);
                bias[n / 2] = -0f;
                Gemm.Packed packed = Gemm.pack(k, n, w, 0, k, true, false);
                assertThat(packed.vector()).isFalse();
                for (float[] b : new float[][]{null, bias}) {
                    float[] want = fmaChains(m, n, k, a, 1, lda, transA, w, b);
                    for (boolean parallel : new boolean[]{false, true}) {
                        float[] c = new float[m * n];
                        java.util.Arrays.fill(c, Float.NaN);
                        Gemm.fast(m, a, 1, lda, transA, packed, b, c, 0, n, parallel);
                        for (int i = 0; i < c.length; i++) {
                            if (Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(want[i])) {
                                assertThat(c[i]).as("m=%d n=%d k=%d transA=%s bias=%s parallel=%s at %d",
                                        m, n, k, transA, b != null, parallel, i).isEqualTo(want[i]);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * What both GEMM kernels compute, by definition: each element of {@code op(A) · Wᵀ} ({@code w} is {@code [n, k]},
     * as a linear weight) the {@code Math.fma} chain over K in order from +0, then {@code bias} (may be null) added.
     */
    static float[] fmaChains(int m, int n, int k, float[] a, int aOff, int lda, boolean transA, float[] w, float[] bias) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum = Math.fma(transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p], w[j * k + p], sum);
                }
                c[i * n + j] = bias == null ? sum : sum + bias[j];
            }
        }
        return c;
    }
}
