package io.aneforge.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM micro-kernel on the incubator Vector API: reached from {@link Gemm} only when
 * {@link io.aneforge.vector.VectorPath#enabled()} (this class names incubator types, so it must
 * not be loaded otherwise).
 *
 * <p>op(B) is packed into panels of {@link #NR} columns (two vectors), K-major and
 * zero-padded: panel {@code q} holds {@code B[p][q·NR + j]} at {@code q·K·NR + p·NR + j}. Six
 * rows of C times one panel accumulate in twelve vector registers over all of K, one FMA
 * per A element and vector ({@code B·a + c}, rounded once), then are stored once. The plain
 * kernel instead reloads and stores its C rows every four K steps, which is what bounds it.
 * Panels are the outer loop: one panel (K·NR floats, 48 KiB at K = 384) stays in L1/L2 while
 * every row block of A streams past it.
 */
final class VectorGemm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Columns per packed panel: two vectors. */
    static final int NR = 2 * L;
    /** Rows of C per micro-kernel call: 6×2 accumulators + 2 B vectors + 1 broadcast fit 16 registers (AVX2), well within 32 (AVX-512). */
    static final int MR = 6;

    private VectorGemm() {
    }

    /** Packs op(B) ({@code [K, N]}, or stored {@code [N, K]} when {@code transB}) into panels. */
    static float[] pack(int k, int n, float[] b, int bOff, int ldb, boolean transB) {
        int panels = (n + NR - 1) / NR;
        float[] out = new float[panels * k * NR];
        for (int q = 0; q < panels; q++) {
            int j0 = q * NR;
            int jn = Math.min(NR, n - j0);
            int base = q * k * NR;
            if (transB) {
                for (int j = 0; j < jn; j++) {
                    int src = bOff + (j0 + j) * ldb;
                    for (int p = 0; p < k; p++) {
                        out[base + p * NR + j] = b[src + p];
                    }
                }
            } else {
                for (int p = 0; p < k; p++) {
                    System.arraycopy(b, bOff + p * ldb + j0, out, base + p * NR, jn);
                }
            }
        }
        return out;
    }

    /** {@code C = A · B} for rows-major A ({@code [M, K]}, stride lda) and B packed by {@link #pack}. */
    static void multiply(int m, int n, int k, float[] a, int aOff, int lda, float[] panels,
                         float[] c, int cOff, int ldc, boolean parallel) {
        int count = (n + NR - 1) / NR;
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
            return;
        }
        Parallel.RangeBody body = (from, to) -> {
            float[] tmp = new float[MR * NR];
            for (int q = from; q < to; q++) {
                panel(m, n, k, a, aOff, lda, panels, q, c, cOff, ldc, tmp);
            }
        };
        long flops = 2L * m * n * k;
        if (parallel && flops >= (1 << 20)) {
            Parallel.forRange(count, 1, body);
        } else {
            body.run(0, count);
        }
    }

    /** All rows of C against panel q. Full 6-row blocks of a full panel are stored in place; edges go through tmp. */
    private static void panel(int m, int n, int k, float[] a, int aOff, int lda, float[] panels, int q,
                              float[] c, int cOff, int ldc, float[] tmp) {
        int j0 = q * NR;
        int jn = Math.min(NR, n - j0);
        int base = q * k * NR;
        boolean fullPanel = jn == NR;
        int i = 0;
        for (; i + MR <= m && fullPanel; i += MR) {
            int r0 = aOff + i * lda;
            kernel(k, a, r0, r0 + lda, r0 + 2 * lda, r0 + 3 * lda, r0 + 4 * lda, r0 + 5 * lda,
                    panels, base, c, cOff + i * ldc + j0, ldc);
        }
        for (; i < m; i += MR) {
            int rows = Math.min(MR, m - i);
            int r0 = aOff + i * lda;
            // Missing rows repeat the last real one; their results land in tmp and are dropped.
            int last = r0 + (rows - 1) * lda;
            kernel(k, a, r0, Math.min(r0 + lda, last), Math.min(r0 + 2 * lda, last), Math.min(r0 + 3 * lda, last),
                    Math.min(r0 + 4 * lda, last), Math.min(r0 + 5 * lda, last), panels, base, tmp, 0, NR);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(tmp, r * NR, c, cOff + (i + r) * ldc + j0, jn);
            }
        }
    }

    /** Six rows (A row offsets r0..r5) times one panel, all of K, stored to {@code out} at o, o + ld, …. */
    private static void kernel(int k, float[] a, int r0, int r1, int r2, int r3, int r4, int r5,
                               float[] b, int base, float[] out, int o, int ld) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S);
        FloatVector c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S);
        FloatVector c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S);
        FloatVector c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S);
        FloatVector c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S);
        FloatVector c51 = FloatVector.zero(S);
        int bo = base;
        for (int p = 0; p < k; p++, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector x = FloatVector.broadcast(S, a[r0 + p]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[r1 + p]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[r2 + p]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[r3 + p]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[r4 + p]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[r5 + p]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c10.intoArray(out, o + ld);
        c11.intoArray(out, o + ld + L);
        c20.intoArray(out, o + 2 * ld);
        c21.intoArray(out, o + 2 * ld + L);
        c30.intoArray(out, o + 3 * ld);
        c31.intoArray(out, o + 3 * ld + L);
        c40.intoArray(out, o + 4 * ld);
        c41.intoArray(out, o + 4 * ld + L);
        c50.intoArray(out, o + 5 * ld);
        c51.intoArray(out, o + 5 * ld + L);
    }
}
