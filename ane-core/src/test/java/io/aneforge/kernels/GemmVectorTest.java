package io.aneforge.kernels;

import io.aneforge.vector.VectorPath;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Both GEMM kernels, chosen explicitly, against the scalar triple loop (computed in double
 * here, so the bound is on each kernel's own rounding): the Vector API kernel (tests run
 * with {@code --add-modules jdk.incubator.vector}) and the plain-Java fallback.
 */
class GemmVectorTest {

    private static float[] random(SplittableRandom r, int n) {
        return GemmPackedTest.random(r, n);
    }

    @Test
    void testsRunTheVectorPath() {
        assertThat(VectorPath.enabled()).as(VectorPath.describe()).isTrue();
        assertThat(Gemm.pack(4, 4, new float[16], 0, 4, false).vector()).isTrue();
    }

    @Test
    void vectorAndPlainKernelsMatchTheReferenceOnEdgeShapes() {
        SplittableRandom r = new SplittableRandom(41);
        // Edges: 1 row, fewer rows than the 6- or 8-row block (AVX2 or AVX-512), 6k±1 and 8k±1 rows;
        // N of 1, under one panel (16/32 columns), one panel + 1, wider than a plain tile (1536); K of 1, odd, long.
        int[][] shapes = {{1, 1, 1}, {1, 33, 7}, {2, 3, 5}, {5, 31, 9}, {6, 32, 16}, {7, 33, 17}, {12, 64, 3},
                {13, 65, 384}, {1, 1536, 384}, {128, 384, 384}, {11, 1537, 20}, {35, 17, 1536}, {3, 8, 0}};
        for (int[] s : shapes) {
            // Random shapes around the fixed ones.
            check(r, s[0], s[1], s[2]);
        }
        for (int t = 0; t < 40; t++) {
            check(r, 1 + r.nextInt(40), 1 + r.nextInt(200), r.nextInt(70));
        }
    }

    private static void check(SplittableRandom r, int m, int n, int k) {
        for (boolean transB : new boolean[]{false, true}) {
            int lda = k + 3; // strided A and C: the kernels must honour the strides
            int ldc = n + 5;
            int ldb = transB ? k + 2 : n + 1;
            float[] a = random(r, m * lda + 1);
            float[] b = random(r, (transB ? n : k) * ldb + 2);
            double[] want = new double[m * n];
            double[] abs = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    double sumAbs = 0;
                    for (int p = 0; p < k; p++) {
                        double prod = (double) a[1 + i * lda + p] * (transB ? b[2 + j * ldb + p] : b[2 + p * ldb + j]);
                        sum += prod;
                        sumAbs += Math.abs(prod);
                    }
                    want[i * n + j] = sum;
                    abs[i * n + j] = sumAbs;
                }
            }
            float[] vectorC = null;
            for (boolean vector : new boolean[]{true, false}) {
                Gemm.Packed packed = Gemm.pack(k, n, b, 2, ldb, transB, vector);
                assertThat(packed.vector()).isEqualTo(vector);
                float[] c = new float[m * ldc + 4];
                Arrays.fill(c, Float.NaN);
                Gemm.fast(m, a, 1, lda, false, packed, null, c, 2, ldc, true);
                if (vector) {
                    vectorC = c;
                } else if (Gemm.exactFma()) {
                    // the plain kernel's FMA chains give the vector kernel's bits (a JVM without the Vector API
                    // computes GPTQ's calibration statistics, and so a -gptq package, alike)
                    for (int i = 0; i < c.length; i++) {
                        if (Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(vectorC[i])) {
                            assertThat(c[i]).as("plain vs vector, m=%d n=%d k=%d transB=%s at %d", m, n, k, transB, i)
                                    .isEqualTo(vectorC[i]);
                        }
                    }
                }
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        // Float summation of k products: |error| ≤ (k + 1)·2^-24·Σ|a·b| (the classic bound).
                        double bound = (k + 1) * 0x1p-24 * abs[i * n + j];
                        assertThat((double) c[2 + i * ldc + j])
                                .as("vector=%s m=%d n=%d k=%d transB=%s at (%d,%d)", vector, m, n, k, transB, i, j)
                                .isCloseTo(want[i * n + j], org.assertj.core.api.Assertions.within(bound));
                    }
                    // Padding between C rows is never written.
                    for (int j = n; j < ldc && 2 + i * ldc + j < c.length; j++) {
                        assertThat(c[2 + i * ldc + j]).as("C padding, vector=%s", vector).isNaN();
                    }
                }
                assertThat(c[0]).isNaN();
                assertThat(c[1]).isNaN();
            }
        }
    }
}
