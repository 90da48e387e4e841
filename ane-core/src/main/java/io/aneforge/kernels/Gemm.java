package io.aneforge.kernels;

/**
 * {@code C = op(A) · op(B)} on strided row-major matrices, overwriting C. {@code op(A)} is
 * M×K (stored [K, M] when {@code transA}), {@code op(B)} is K×N (stored [N, K] when
 * {@code transB}); {@code lda/ldb/ldc} are row strides of the stored matrices.
 *
 * <p>Fast path: transposed operands are first packed into plain row-major copies (O(n²),
 * negligible against the O(n³) product), then C is computed in tiles of
 * {@value #ROW_BLOCK} rows × {@value #COL_TILE} columns, K in steps of {@value #K_TILE}
 * so the B tile stays in L2. The inner loop updates four rows of C from four rows of B
 * with contiguous, independent lanes, which C2 turns into AVX FMA code.
 */
public final class Gemm {

    static final int ROW_BLOCK = 32;
    static final int COL_TILE = 256;
    static final int K_TILE = 64;

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

    /** Blocked version; {@code parallel} spreads the tiles over {@link Parallel}. */
    public static void fast(int m, int n, int k,
                            float[] a, int aOff, int lda, boolean transA,
                            float[] b, int bOff, int ldb, boolean transB,
                            float[] c, int cOff, int ldc, boolean parallel) {
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
        if (transB) { // pack op(B) as [K, N]
            float[] packed = new float[k * n];
            for (int j = 0; j < n; j++) {
                int src = bOff + j * ldb;
                for (int p = 0; p < k; p++) {
                    packed[p * n + j] = b[src + p];
                }
            }
            b = packed;
            bOff = 0;
            ldb = n;
        }
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
        }
        final float[] fa = a;
        final float[] fb = b;
        final int fao = aOff;
        final int flda = lda;
        final int fbo = bOff;
        final int fldb = ldb;
        int rowBlocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
        int colTiles = (n + COL_TILE - 1) / COL_TILE;
        int tiles = rowBlocks * colTiles;
        Parallel.RangeBody body = (from, to) -> {
            for (int t = from; t < to; t++) {
                int i0 = (t / colTiles) * ROW_BLOCK;
                int j0 = (t % colTiles) * COL_TILE;
                tile(fa, fao, flda, fb, fbo, fldb, c, cOff, ldc, k,
                        i0, Math.min(m, i0 + ROW_BLOCK), j0, Math.min(n, j0 + COL_TILE));
            }
        };
        if (parallel) {
            long flops = 2L * m * n * k;
            Parallel.forRange(tiles, flops < (1 << 20) ? tiles : 1, body);
        } else {
            body.run(0, tiles);
        }
    }

    private static void tile(float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, int k, int i0, int i1, int j0, int j1) {
        int jn = j1 - j0;
        for (int p0 = 0; p0 < k; p0 += K_TILE) {
            int p1 = Math.min(k, p0 + K_TILE);
            int i = i0;
            for (; i + 4 <= i1; i += 4) {
                int a0 = aOff + i * lda;
                int a1 = a0 + lda;
                int a2 = a1 + lda;
                int a3 = a2 + lda;
                int c0 = cOff + i * ldc + j0;
                int p = p0;
                for (; p + 4 <= p1; p += 4) {
                    int bo = bOff + p * ldb + j0;
                    rows4k4(c, c0, c0 + ldc, c0 + 2 * ldc, c0 + 3 * ldc, b, bo, ldb, jn,
                            a[a0 + p], a[a0 + p + 1], a[a0 + p + 2], a[a0 + p + 3],
                            a[a1 + p], a[a1 + p + 1], a[a1 + p + 2], a[a1 + p + 3],
                            a[a2 + p], a[a2 + p + 1], a[a2 + p + 2], a[a2 + p + 3],
                            a[a3 + p], a[a3 + p + 1], a[a3 + p + 2], a[a3 + p + 3]);
                }
                for (; p < p1; p++) {
                    int bo = bOff + p * ldb + j0;
                    rows4k1(c, c0, c0 + ldc, c0 + 2 * ldc, c0 + 3 * ldc, b, bo, jn,
                            a[a0 + p], a[a1 + p], a[a2 + p], a[a3 + p]);
                }
            }
            for (; i < i1; i++) { // leftover rows, one at a time
                int ar = aOff + i * lda;
                int c0 = cOff + i * ldc + j0;
                for (int p = p0; p < p1; p++) {
                    float av = a[ar + p];
                    int bo = bOff + p * ldb + j0;
                    for (int j = 0; j < jn; j++) {
                        c[c0 + j] = Math.fma(av, b[bo + j], c[c0 + j]);
                    }
                }
            }
        }
    }

    /** Four rows of C += 4×4 block of A times four rows of B: 12 memory operations per 32 flops. */
    private static void rows4k4(float[] c, int c0, int c1, int c2, int c3, float[] b, int b0, int ldb, int n,
                                float a00, float a01, float a02, float a03,
                                float a10, float a11, float a12, float a13,
                                float a20, float a21, float a22, float a23,
                                float a30, float a31, float a32, float a33) {
        int b1 = b0 + ldb;
        int b2 = b1 + ldb;
        int b3 = b2 + ldb;
        for (int j = 0; j < n; j++) {
            float x0 = b[b0 + j];
            float x1 = b[b1 + j];
            float x2 = b[b2 + j];
            float x3 = b[b3 + j];
            c[c0 + j] = Math.fma(a03, x3, Math.fma(a02, x2, Math.fma(a01, x1, Math.fma(a00, x0, c[c0 + j]))));
            c[c1 + j] = Math.fma(a13, x3, Math.fma(a12, x2, Math.fma(a11, x1, Math.fma(a10, x0, c[c1 + j]))));
            c[c2 + j] = Math.fma(a23, x3, Math.fma(a22, x2, Math.fma(a21, x1, Math.fma(a20, x0, c[c2 + j]))));
            c[c3 + j] = Math.fma(a33, x3, Math.fma(a32, x2, Math.fma(a31, x1, Math.fma(a30, x0, c[c3 + j]))));
        }
    }

    private static void rows4k1(float[] c, int c0, int c1, int c2, int c3, float[] b, int b0, int n,
                                float a0, float a1, float a2, float a3) {
        for (int j = 0; j < n; j++) {
            float x = b[b0 + j];
            c[c0 + j] = Math.fma(a0, x, c[c0 + j]);
            c[c1 + j] = Math.fma(a1, x, c[c1 + j]);
            c[c2 + j] = Math.fma(a2, x, c[c2 + j]);
            c[c3 + j] = Math.fma(a3, x, c[c3 + j]);
        }
    }
}
