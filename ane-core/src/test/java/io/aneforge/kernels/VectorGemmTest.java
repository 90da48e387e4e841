package io.aneforge.kernels;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link VectorGemm} exactly: packing against the plain per-element layout, and every C element
 * against its scalar chain of {@code Math.fma} over p = 0..K−1 from zero, which is what each
 * micro-kernel (8, 6 or 4 rows) computes; so the row blocking never changes a result bit.
 * (Tests run with the Vector API: see {@link GemmVectorTest#testsRunTheVectorPath}.)
 */
class VectorGemmTest {

    /** The panel layout element by element (the packing code before the blocked transposition). */
    private static float[] packReference(int k, int n, float[] b, int bOff, int ldb, boolean transB) {
        int nr = VectorGemm.NR;
        int panels = (n + nr - 1) / nr;
        float[] out = new float[panels * k * nr];
        for (int q = 0; q < panels; q++) {
            for (int j = 0; j < Math.min(nr, n - q * nr); j++) {
                for (int p = 0; p < k; p++) {
                    int col = q * nr + j;
                    out[q * k * nr + p * nr + j] = transB ? b[bOff + col * ldb + p] : b[bOff + p * ldb + col];
                }
            }
        }
        return out;
    }

    @Test
    void packIsThePanelLayoutForOddShapes() {
        SplittableRandom r = new SplittableRandom(5);
        int nr = VectorGemm.NR;
        // K under, at and over the 16-value block, K tails; N under one panel, panel ± 1, many panels.
        int[][] shapes = {{1, 1}, {15, 7}, {16, nr}, {17, nr + 1}, {33, nr - 1}, {384, 1536}, {383, 1537}, {7, 3 * nr + 5}};
        for (int[] s : shapes) {
            int k = s[0];
            int n = s[1];
            for (boolean transB : new boolean[]{true, false}) {
                int ldb = (transB ? k : n) + 3;
                float[] b = GemmPackedTest.random(r, (transB ? n : k) * ldb + 4);
                float[] got = VectorGemm.pack(k, n, b, 4, ldb, transB);
                // isEqualTo compares the arrays bit for bit (Arrays.equals); containsExactly is quadratic here.
                assertThat(got).as("k=%d n=%d transB=%s", k, n, transB).isEqualTo(packReference(k, n, b, 4, ldb, transB));
            }
        }
    }

    /**
     * Real-token predictions put the first n_r columns of several products side by side
     * ({@link Gemm#multiplyConcatenated}): each column must be that product's own, bit for bit, with the
     * row bias, for segments that start and end inside panels, span a whole panel, or are one column, and for
     * row tails of the 8-row blocks.
     */
    @Test
    void concatenatedColumnsAreEachProductsOwn() {
        SplittableRandom r = new SplittableRandom(23);
        int nr = VectorGemm.NR;
        int ldb = 2 * nr + 3;
        int[][] columnSets = {{5, nr + 7, 1, nr, 20}, {ldb}, {1}, {nr - 1, nr + 1}};
        for (int m : new int[]{8, 70, 3}) {
            int k = 40;
            float[] w = GemmPackedTest.random(r, m * k);
            float[] bias = GemmPackedTest.random(r, m);
            Gemm.PackedA a = Gemm.packA(m, k, w, 0, k);
            for (int[] ns : columnSets) {
                float[][] bs = new float[ns.length][];
                int[] bOffs = new int[ns.length];
                float[][] cs = new float[ns.length][];
                int[] cOffs = new int[ns.length];
                for (int q = 0; q < ns.length; q++) {
                    bOffs[q] = q;
                    bs[q] = GemmPackedTest.random(r, q + k * ldb);
                    cs[q] = new float[m * ldb];
                }
                Gemm.multiplyEach(a, bias, ldb, bs, bOffs, cs, cOffs, true);
                float[] c = Gemm.multiplyConcatenated(a, bias, bs, bOffs, ldb, ns, true);
                int total = Arrays.stream(ns).sum();
                assertThat(c).hasSize(m * total);
                for (int q = 0, at = 0; q < ns.length; at += ns[q++]) {
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < ns[q]; j++) {
                            assertThat(Float.floatToRawIntBits(c[i * total + at + j]))
                                    .as("m=%d ns=%s product %d at (%d,%d)", m, Arrays.toString(ns), q, i, j)
                                    .isEqualTo(Float.floatToRawIntBits(cs[q][i * ldb + j]));
                        }
                    }
                }
            }
        }
    }

    /** A weight packed from its encoded rows (a range at a time) is packed exactly as from its decoded floats. */
    @Test
    void packingFromASourceIsPackingTheDecodedFloats() {
        SplittableRandom r = new SplittableRandom(29);
        for (int[] s : new int[][]{{40, 70}, {384, 1536}, {1536, 384}, {7, VectorGemm.NR + 1}}) {
            int k = s[0];
            int n = s[1];
            float[] w = GemmPackedTest.random(r, n * k); // stored [N, K]
            int[] calls = {0};
            Gemm.Source src = (from, dst, off, len) -> {
                calls[0]++;
                System.arraycopy(w, from, dst, off, len);
            };
            assertThat(VectorGemm.packTransposed(k, n, src)).as("k=%d n=%d", k, n).isEqualTo(VectorGemm.pack(k, n, w, 0, k, true));
            assertThat(calls[0]).isEqualTo((n + VectorGemm.NR - 1) / VectorGemm.NR); // one range per panel, never the whole
            int m = n / 8 * 8; // rows of a conv weight [M, K], whole 8-row blocks
            float[] fromRows = VectorGemm.packConstantRows(m, k, src);
            if (VectorGemm.MR == 8) {
                assertThat(fromRows).isEqualTo(VectorGemm.packConstantRows(m, k, w, 0, k));
            } else {
                assertThat(fromRows).isNull();
            }
        }
    }

    @Test
    void everyElementIsTheFmaChainOverK() {
        SplittableRandom r = new SplittableRandom(17);
        // M: every tail length of the 8- and 6-row blocks; N: a partial panel, a whole panel, a
        // partial last panel; then the converter's 32 and 128 rows (and two odd counts) at K = 384.
        int[] ms = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 17};
        int[] ns = {5, VectorGemm.NR, 3 * VectorGemm.NR + 7};
        for (int m : ms) {
            for (int n : ns) {
                check(r, m, n, 1);
                check(r, m, n, 19);
            }
        }
        for (int m : new int[]{13, 32, 37, 128}) {
            check(r, m, 2 * VectorGemm.NR + 3, 384);
        }
        // one panel: whole blocks read A's rows in place (the ane layout's 1×1 conv at 32 positions)
        check(r, 384, VectorGemm.NR, 384);
    }

    private static void check(SplittableRandom r, int m, int n, int k) {
        int lda = k + 1;
        int ldc = n + 2;
        float[] a = GemmPackedTest.random(r, m * lda + 3);
        float[] w = GemmPackedTest.random(r, n * k); // [n, k], packed transposed as a weight is
        float[] panels = VectorGemm.pack(k, n, w, 0, k, true);
        float[] bias = GemmPackedTest.random(r, n);
        bias[n / 2] = -0f;
        for (float[] b : new float[][]{null, bias}) {
            float[] want = GemmPackedTest.fmaChains(m, n, k, a, 3, lda, false, w, b);
            for (boolean parallel : new boolean[]{false, true}) {
                float[] c = new float[m * ldc + 1];
                Arrays.fill(c, Float.NaN);
                VectorGemm.multiply(m, n, k, a, 3, lda, panels, b, c, 1, ldc, parallel);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        float got = c[1 + i * ldc + j];
                        if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want[i * n + j])) {
                            assertThat(got).as("m=%d n=%d k=%d bias=%s parallel=%s at (%d,%d)", m, n, k, b != null, parallel, i, j)
                                    .isEqualTo(want[i * n + j]);
                        }
                    }
                    assertThat(c[1 + i * ldc + n]).as("C padding").isNaN();
                }
                assertThat(c[0]).isNaN();
            }
        }
    }

    /**
     * The shared-A products of a 1×1 conv group give each C_r exactly what {@link Gemm#fast} gives for
     * A · B_r alone: M with row tails and whole 8-row blocks over several chunks (the single product reads
     * A in place or interleaves it per call, the group always uses the load-time interleaving), N under,
     * at and over one panel (a partial panel of whole 8-row blocks goes through scratch from the
     * interleaved copy), K from 1 to 1536 (the chunk of A per task shrinks with K).
     */
    @Test
    void multiplyEachIsEachProductAlone() {
        SplittableRandom r = new SplittableRandom(23);
        int nr = VectorGemm.NR;
        int[][] shapes = {{1, 5, 1}, {13, nr, 19}, {70, 5, 40}, {384, nr, 384}, {96, 2 * nr + 3, 1536}, {1536, nr, 384}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            int lda = k + 2;
            float[] a = GemmPackedTest.random(r, m * lda + 1);
            Gemm.PackedA packed = Gemm.packA(m, k, a, 1, lda);
            // with 8-row blocks and no tail rows every product reads the interleaved copy, so A is not kept
            assertThat(packed.holdsRowMajor()).as("m=%d", m).isEqualTo(VectorGemm.MR != 8 || m % 8 != 0);
            int count = 3;
            float[][] bs = new float[count][];
            int[] bOffs = new int[count];
            float[][] cs = new float[count][];
            int[] cOffs = new int[count];
            for (int q = 0; q < count; q++) {
                bOffs[q] = q;
                bs[q] = GemmPackedTest.random(r, q + k * n);
                cOffs[q] = 2 * q;
                cs[q] = new float[2 * q + m * n];
            }
            float[] rowBias = GemmPackedTest.random(r, m);
            for (float[] bias : new float[][]{null, rowBias}) {
                for (boolean parallel : new boolean[]{false, true}) {
                    Gemm.multiplyEach(packed, bias, n, bs, bOffs, cs, cOffs, parallel);
                    for (int q = 0; q < count; q++) {
                        float[] want = new float[m * n];
                        Gemm.fast(m, n, k, a, 1, lda, false, bs[q], bOffs[q], n, false, want, 0, n, false);
                        for (int i = 0; bias != null && i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                want[i * n + j] += bias[i]; // a pass over the finished product, as a conv adds its bias
                            }
                        }
                        float[] got = Arrays.copyOfRange(cs[q], cOffs[q], cOffs[q] + m * n);
                        assertThat(got).as("m=%d n=%d k=%d product %d bias=%s parallel=%s", m, n, k, q, bias != null, parallel)
                                .isEqualTo(want);
                    }
                }
            }
        }
    }

    /**
     * Weights packed by the products that use them ({@link Gemm#packTransposedOnUse}, {@link Gemm#packAOnUse})
     * give the bits of the weights packed at load, for partial last panels, several panels and tasks, K from
     * 1 to 1536, with and without bias, on one thread and on the pool, and a partial panel after a full one
     * (the reused panel buffer's stale columns must not leak).
     */
    @Test
    void packingOnUseIsPackingAtLoad() {
        SplittableRandom r = new SplittableRandom(31);
        int nr = VectorGemm.NR;
        for (int[] s : new int[][]{{1, 1, 1}, {13, nr + 3, 40}, {130, 384, 384}, {130, 1536, 384}, {70, 2 * nr - 1, 1536}, {8, 5, 17}}) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            float[] w = GemmPackedTest.random(r, n * k); // B stored [N, K], a linear's weight
            // counted from the kernel threads at once (parallel products): an int[] lost increments
            java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
            Gemm.Source src = (from, dst, off, len) -> {
                reads.incrementAndGet();
                System.arraycopy(w, from, dst, off, len);
            };
            float[] a = GemmPackedTest.random(r, m * k);
            float[] bias = GemmPackedTest.random(r, n);
            for (float[] b : new float[][]{null, bias}) {
                for (boolean parallel : new boolean[]{false, true}) {
                    float[] want = new float[m * n];
                    Gemm.fast(m, a, 0, k, false, Gemm.packTransposed(k, n, src), b, want, 0, n, parallel);
                    float[] got = new float[m * n];
                    reads.set(0);
                    Gemm.fast(m, a, 0, k, false, Gemm.packTransposedOnUse(k, n, src), b, got, 0, n, parallel);
                    assertThat(got).as("linear m=%d n=%d k=%d bias=%s parallel=%s", m, n, k, b != null, parallel).isEqualTo(want);
                    assertThat(reads.get()).as("one range per panel and product").isEqualTo((n + nr - 1) / nr);
                }
            }
            // a conv's weight A [M, K] (whole 8-row blocks) against several B, side by side and each alone
            int rowsA = n / 8 * 8;
            if (rowsA == 0) {
                continue;
            }
            Gemm.PackedA atLoad = Gemm.packA(rowsA, k, src);
            Gemm.PackedA onUse = Gemm.packAOnUse(rowsA, k, src);
            float[] rowBias = GemmPackedTest.random(r, rowsA);
            int[] ns = {m, 3, nr + 1};
            int ldb = Math.max(m, nr + 1);
            float[][] bs = new float[ns.length][];
            int[] bOffs = new int[ns.length];
            for (int q = 0; q < ns.length; q++) {
                bOffs[q] = q;
                bs[q] = GemmPackedTest.random(r, q + k * ldb);
            }
            for (boolean parallel : new boolean[]{false, true}) {
                assertThat(Gemm.multiplyConcatenated(onUse, rowBias, bs, bOffs, ldb, ns, parallel))
                        .as("conv concatenated m=%d k=%d parallel=%s", rowsA, k, parallel)
                        .isEqualTo(Gemm.multiplyConcatenated(atLoad, rowBias, bs, bOffs, ldb, ns, parallel));
                float[][] want = new float[ns.length][rowsA * ldb];
                float[][] got = new float[ns.length][rowsA * ldb];
                int[] cOffs = new int[ns.length];
                Gemm.multiplyEach(atLoad, rowBias, ldb, bs, bOffs, want, cOffs, parallel);
                Gemm.multiplyEach(onUse, rowBias, ldb, bs, bOffs, got, cOffs, parallel);
                assertThat(got).as("conv each m=%d k=%d parallel=%s", rowsA, k, parallel).isEqualTo(want);
            }
        }
    }
}
