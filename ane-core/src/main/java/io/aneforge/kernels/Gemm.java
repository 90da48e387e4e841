package io.aneforge.kernels;

/**
 * {@code C = op(A) · op(B)} on strided row-major matrices, overwriting C. {@code op(A)} is
 * M×K (stored [K, M] when {@code transA}), {@code op(B)} is K×N (stored [N, K] when
 * {@code transB}); {@code lda/ldb/ldc} are row strides of the stored matrices.
 *
 * <p>Fast path: op(B) is packed into column tiles of {@value #TILE} floats, one Java array
 * per row of each tile ({@link Packed}; a constant weight is packed once, see
 * {@link #pack}); C is accumulated two rows at a time in two tile-wide scratch arrays, four
 * K steps per pass ({@code rows2k4}), and copied out (plus an optional per-column bias).
 * Why this shape: C2 in JDK 17 turns a loop into SIMD code only when every array in it is
 * indexed by the bare loop counter (an {@code a[off + j]} with a run-time {@code off}, or
 * more than about six arrays, leaves it scalar, measured 4–8× slower), so every operand of
 * the inner loop is its own array indexed by {@code j}. Measured ≈ 80 GFLOP/s per core
 * on AVX-512 for L1-resident tiles.
 */
public final class Gemm {

    /** Columns per packed tile (1 KiB rows: a K×TILE panel stays in L2 for K up to ~1024). */
    static final int TILE = 256;
    /** Rows of C per parallel task. */
    static final int ROW_BLOCK = 16;

    private Gemm() {
    }

    /** Plain triple loop; defines the result. */
    public static void scalar(int m, int n, int k,
                              float[] a, int aOff, int lda, boolean transA,
                              float[] b, int bOff, int ldb, boolean transB,
                              float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += av * bv;
                }
                c[cOff + i * ldc + j] = sum;
            }
        }
    }

    /** op(B), K×N, packed for {@link #fast(int, float[], int, int, boolean, Packed, float[], float[], int, int, boolean)}. */
    public static final class Packed {
        private final int k;
        private final int n;
        private final float[][][] rows; // [tile][p][TILE]; K rounded up to a multiple of 4 with zero rows

        private Packed(int k, int n, float[][][] rows) {
            this.k = k;
            this.n = n;
            this.rows = rows;
        }

        public int k() {
            return k;
        }

        public int n() {
            return n;
        }
    }

    /** Packs op(B) ({@code [K, N]}, or stored {@code [N, K]} when {@code transB}). */
    public static Packed pack(int k, int n, float[] b, int bOff, int ldb, boolean transB) {
        int tiles = (n + TILE - 1) / TILE;
        int kp = (k + 3) & ~3;
        float[][][] rows = new float[tiles][kp][];
        for (int t = 0; t < tiles; t++) {
            int j0 = t * TILE;
            int jn = Math.min(TILE, n - j0);
            for (int p = 0; p < kp; p++) {
                float[] r = new float[TILE];
                if (p < k) {
                    if (transB) {
                        for (int j = 0; j < jn; j++) {
                            r[j] = b[bOff + (j0 + j) * ldb + p];
                        }
                    } else {
                        System.arraycopy(b, bOff + p * ldb + j0, r, 0, jn);
                    }
                }
                rows[t][p] = r;
            }
        }
        return new Packed(k, n, rows);
    }

    /** Blocked version; {@code parallel} spreads the tiles over {@link Parallel}. */
    public static void fast(int m, int n, int k,
                            float[] a, int aOff, int lda, boolean transA,
                            float[] b, int bOff, int ldb, boolean transB,
                            float[] c, int cOff, int ldc, boolean parallel) {
        if (m == 0 || n == 0) {
            return;
        }
        fast(m, a, aOff, lda, transA, pack(k, n, b, bOff, ldb, transB), null, c, cOff, ldc, parallel);
    }

    /**
     * {@code C = op(A) · B + bias} with B packed by {@link #pack}; {@code bias} (one value per
     * column of C) may be null.
     */
    public static void fast(int m, float[] a, int aOff, int lda, boolean transA, Packed b, float[] bias,
                            float[] c, int cOff, int ldc, boolean parallel) {
        int n = b.n;
        int k = b.k;
        if (m == 0 || n == 0) {
            return;
        }
        if (transA) { // pack op(A) as [M, K]
            float[] packed = new float[m * k];
            for (int p = 0; p < k; p++) {
                for (int i = 0; i < m; i++) {
                    packed[i * k + p] = a[aOff + p * lda + i];
                }
            }
            a = packed;
            aOff = 0;
            lda = k;
        }
        final float[] fa = a;
        final int fao = aOff;
        final int flda = lda;
        int tiles = b.rows.length;
        int rowBlocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
        int tasks = tiles * rowBlocks;
        Parallel.RangeBody body = (from, to) -> {
            float[] d0 = new float[TILE];
            float[] d1 = new float[TILE];
            for (int t = from; t < to; t++) {
                int tile = t % tiles;
                int i0 = (t / tiles) * ROW_BLOCK;
                rows(fa, fao, flda, k, b.rows[tile], tile * TILE, Math.min(TILE, n - tile * TILE), bias, c, cOff, ldc,
                        i0, Math.min(m, i0 + ROW_BLOCK), d0, d1);
            }
        };
        if (parallel) {
            long flops = 2L * m * n * k;
            Parallel.forRange(tasks, flops < (1 << 20) ? tasks : 1, body);
        } else {
            body.run(0, tasks);
        }
    }

    private static void rows(float[] a, int aOff, int lda, int k, float[][] br, int j0, int jn, float[] bias,
                             float[] c, int cOff, int ldc, int i0, int i1, float[] d0, float[] d1) {
        int k4 = k & ~3;
        for (int i = i0; i < i1; i += 2) {
            boolean two = i + 1 < i1;
            java.util.Arrays.fill(d0, 0, jn, 0f);
            java.util.Arrays.fill(d1, 0, jn, 0f);
            int r0 = aOff + i * lda;
            int r1 = two ? r0 + lda : r0; // an odd last row is computed twice, the copy discarded
            int p = 0;
            for (; p < k4; p += 4) {
                rows2k4(d0, d1, br[p], br[p + 1], br[p + 2], br[p + 3], jn,
                        a[r0 + p], a[r0 + p + 1], a[r0 + p + 2], a[r0 + p + 3],
                        a[r1 + p], a[r1 + p + 1], a[r1 + p + 2], a[r1 + p + 3]);
            }
            if (p < k) { // K tail: the packed rows past K are zero, so pad A with zeros
                float[] x = new float[4];
                float[] y = new float[4];
                for (int q = 0; p + q < k; q++) {
                    x[q] = a[r0 + p + q];
                    y[q] = a[r1 + p + q];
                }
                rows2k4(d0, d1, br[p], br[p + 1], br[p + 2], br[p + 3], jn, x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]);
            }
            store(d0, bias, j0, jn, c, cOff + i * ldc + j0);
            if (two) {
                store(d1, bias, j0, jn, c, cOff + (i + 1) * ldc + j0);
            }
        }
    }

    private static void store(float[] d, float[] bias, int j0, int jn, float[] c, int o) {
        if (bias == null) {
            System.arraycopy(d, 0, c, o, jn);
        } else {
            for (int j = 0; j < jn; j++) {
                c[o + j] = d[j] + bias[j0 + j];
            }
        }
    }

    /**
     * Two rows of C += 2×4 block of A times four rows of B. Plain multiplies and adds
     * (not {@code Math.fma}, which C2 leaves scalar here) over arrays indexed by {@code j}.
     */
    private static void rows2k4(float[] d0, float[] d1, float[] x0, float[] x1, float[] x2, float[] x3, int n,
                                float a0, float a1, float a2, float a3, float e0, float e1, float e2, float e3) {
        for (int j = 0; j < n; j++) {
            float v0 = x0[j];
            float v1 = x1[j];
            float v2 = x2[j];
            float v3 = x3[j];
            d0[j] += a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3;
            d1[j] += e0 * v0 + e1 * v1 + e2 * v2 + e3 * v3;
        }
    }
}
