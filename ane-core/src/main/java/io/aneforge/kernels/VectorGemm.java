package io.aneforge.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM micro-kernel on the incubator Vector API: reached from {@link Gemm} only when
 * {@link io.aneforge.vector.VectorPath#enabled()} (this class names incubator types, so it must
 * not be loaded otherwise).
 *
 * <p>op(B) is packed into panels of {@link #NR} columns (two vectors), K-major and
 * zero-padded: panel {@code q} holds {@code B[p][q·NR + j]} at {@code q·K·NR + p·NR + j}.
 * {@link #MR} rows of C (8 with AVX-512, 6 with AVX2) times one panel accumulate in 2·MR vector
 * registers over all of K, one FMA
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
    /**
     * Rows of C per micro-kernel call. With 16-float vectors (AVX-512, 32 vector registers): 8,
     * i.e. 8×2 accumulators + 2 B vectors + 1 broadcast = 19 registers, and M = 32 or 128 (the
     * converter's prediction rows) are whole blocks. With 8-float vectors (AVX2, 16 registers): 6,
     * i.e. 12 + 2 + 1 = 15.
     */
    static final int MR = L >= 16 ? 8 : 6;

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
                transposeInto(k, jn, b, bOff + j0 * ldb, ldb, out, base);
            } else {
                for (int p = 0; p < k; p++) {
                    System.arraycopy(b, bOff + p * ldb + j0, out, base + p * NR, jn);
                }
            }
        }
        return out;
    }

    /**
     * Panels of {@code [B_0[:, :ns[0]] | B_1[:, :ns[1]] | …]}, each B_r {@code [K, ·]} row-major at
     * {@code bs[r][bOffs[r]]} with row stride {@code ldb}: what {@link #pack} gives for the concatenation,
     * without building it.
     */
    static float[] packColumns(int k, float[][] bs, int[] bOffs, int ldb, int[] ns) {
        int total = 0;
        for (int n : ns) {
            total += n;
        }
        float[] out = new float[(total + NR - 1) / NR * k * NR];
        for (int r = 0, at = 0; r < bs.length; at += ns[r++]) {
            for (int c0 = 0; c0 < ns[r]; ) {
                int col = at + c0;
                int j = col % NR;
                int len = Math.min(ns[r] - c0, NR - j);
                int base = col / NR * k * NR + j;
                int src = bOffs[r] + c0;
                for (int p = 0; p < k; p++) {
                    System.arraycopy(bs[r], src + p * ldb, out, base + p * NR, len);
                }
                c0 += len;
            }
        }
        return out;
    }

    /** {@link #pack} of a B stored {@code [N, K]} read from {@code b}, one panel's rows at a time through a scratch array. */
    static float[] packTransposed(int k, int n, Gemm.Source b) {
        int panels = (n + NR - 1) / NR;
        float[] out = new float[panels * k * NR];
        float[] scratch = new float[Math.min(n, NR) * k];
        for (int q = 0; q < panels; q++) {
            int j0 = q * NR;
            int jn = Math.min(NR, n - j0);
            b.read(j0 * k, scratch, 0, jn * k);
            transposeInto(k, jn, scratch, 0, k, out, q * k * NR);
        }
        return out;
    }

    /**
     * Panel q of {@link #packTransposed} into {@code out} ({@code k·NR} floats, reused from panel to panel), through
     * {@code scratch} ({@code min(n, NR)·k} floats): the same floats; a partial last panel's missing columns are zeros.
     */
    private static void packPanel(int k, int n, Gemm.Source b, int q, float[] scratch, float[] out) {
        int j0 = q * NR;
        int jn = Math.min(NR, n - j0);
        b.read(j0 * k, scratch, 0, jn * k);
        if (jn < NR) {
            java.util.Arrays.fill(out, 0, k * NR, 0f);
        }
        transposeInto(k, jn, scratch, 0, k, out, 0);
    }

    /** K values per block of {@link #transposeInto}: one 64-byte line of each stored B row. */
    private static final int PACK_KB = 16;

    /**
     * One panel of a transposed B: {@code out[base + p·NR + j] = b[src + j·ldb + p]} for j < jn, p < k.
     * In blocks of {@link #PACK_KB} values of p, so that a block reads one line from each of the
     * jn stored rows and writes {@code PACK_KB} panel rows (2 KiB at NR = 32). Writing a whole
     * column of the panel per stored row instead (K writes 128 bytes apart, over the panel's
     * 48 KiB each time) took 0.92 ms for a 1536×384 weight against 0.63 ms (best of 300 warm
     * calls; allocating and copying an array of that size: 0.52 ms). A Vector API 16×16
     * in-register transpose took 0.46 ms warm but ~1.9 s over the first 40 calls in a fresh JVM
     * (interpreted and C1-compiled vector code), against 0.15 s here, so it was not kept.
     */
    private static void transposeInto(int k, int jn, float[] b, int src, int ldb, float[] out, int base) {
        for (int p0 = 0; p0 < k; p0 += PACK_KB) {
            int p1 = Math.min(k, p0 + PACK_KB);
            for (int j = 0; j < jn; j++) {
                int s = src + j * ldb;
                int o = base + j;
                for (int p = p0; p < p1; p++) {
                    out[o + p * NR] = b[s + p];
                }
            }
        }
    }

    /**
     * {@code C = A · B + bias} for rows-major A ({@code [M, K]}, stride lda) and B packed by {@link #pack};
     * {@code bias} (one value per column of C) may be null. The bias is added to each block of C right
     * after its sums are stored, while the block is in L1 ({@link #addBias}), with the same float
     * additions as a pass over C afterwards.
     */
    static void multiply(int m, int n, int k, float[] a, int aOff, int lda, float[] panels, float[] bias,
                         float[] c, int cOff, int ldc, boolean parallel) {
        multiply(m, n, k, a, aOff, lda, panels, null, bias, c, cOff, ldc, parallel);
    }

    /**
     * {@link #multiply(int, int, int, float[], int, int, float[], float[], float[], int, int, boolean)} with B either
     * packed ({@code panels}) or, when {@code panels} is null, stored {@code [N, K]} in {@code source}: each task then
     * packs its panel into a buffer of its own (as {@link #packTransposed} would) right before the panel's sums.
     */
    static void multiply(int m, int n, int k, float[] a, int aOff, int lda, float[] panels, Gemm.Source source,
                         float[] bias, float[] c, int cOff, int ldc, boolean parallel) {
        int count = (n + NR - 1) / NR;
        if (k == 0) {
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
            if (bias != null) {
                addBias(bias, false, m, n, c, cOff, ldc);
            }
            return;
        }
        // The interleaved copy of A pays off when several panels reuse it; with one panel (the ane
        // layout's 1×1 convs at a short sequence, where A is the weight) it would be one more pass
        // over the weight per call, so the 8-row kernel reads the rows in place there.
        float[] ap = MR == 8 && count > 1 ? packRows(m, k, a, aOff, lda) : null;
        Parallel.RangeBody body = (from, to) -> {
            float[] tmp = new float[MR * NR];
            float[] own = panels == null ? new float[k * NR] : null; // one panel, packed here
            float[] rows = panels == null ? new float[Math.min(n, NR) * k] : null;
            for (int q = from; q < to; q++) {
                if (panels == null) {
                    packPanel(k, n, source, q, rows, own);
                    panel(m, n, k, a, aOff, lda, ap, own, 0, q, bias, c, cOff, ldc, tmp);
                } else {
                    panel(m, n, k, a, aOff, lda, ap, panels, q * k * NR, q, bias, c, cOff, ldc, tmp);
                }
            }
        };
        long flops = 2L * m * n * k;
        if (parallel && flops >= (1 << 20)) {
            Parallel.forRange(count, 1, body);
        } else {
            body.run(0, count);
        }
    }

    /**
     * The whole 8-row blocks of A interleaved for {@link #kernel8p}: block {@code i/8} at
     * {@code i·K}, A[i + r][p] at {@code i·K + p·8 + r}. With the rows read in place the 8-row
     * kernel needs eight row offsets in general registers besides its loop state, and ran at
     * 93–107 GFLOP/s against the 6-row kernel's 99–117 (MiniLM shapes, depending on the JVM
     * run); on interleaved rows, one offset: 127–150. Costs one pass over A per product.
     */
    private static float[] packRows(int m, int k, float[] a, int aOff, int lda) {
        int blocks = m / 8;
        float[] ap = new float[blocks * 8 * k];
        for (int blk = 0; blk < blocks; blk++) {
            interleave(k, a, aOff + blk * 8 * lda, lda, ap, blk * k * 8);
        }
        return ap;
    }

    /** Eight rows of A from {@code src} (stride lda) interleaved into {@code ap} at {@code dst}: A[r][p] at {@code dst + p·8 + r}. */
    private static void interleave(int k, float[] a, int src, int lda, float[] ap, int dst) {
        for (int r = 0; r < 8; r++) {
            int s = src + r * lda;
            int d = dst + r;
            for (int p = 0; p < k; p++) {
                ap[d + p * 8] = a[s + p];
            }
        }
    }

    /**
     * All rows of C against panel q. Full {@link #MR}-row blocks of a full panel are stored in
     * place; edges go through tmp. A tail of at most 4 rows takes the 4-row kernel (so that a
     * one-row product computes 4 rows, not MR); every kernel forms each C element by the same
     * chain of FMAs over p = 0..K−1, so the results do not depend on the blocking.
     */
    private static void panel(int m, int n, int k, float[] a, int aOff, int lda, float[] ap, float[] panels, int base,
                              int q, float[] bias, float[] c, int cOff, int ldc, float[] tmp) {
        for (int i = 0; i < m; i += MR) {
            rowBlock(m, n, k, a, aOff, lda, ap, 0, panels, base, q, i, bias, false, c, cOff, ldc, tmp);
        }
    }

    /**
     * Rows i..i+MR−1 (fewer at the end) of C against panel q (at {@code base} in {@code panels}): the step of
     * {@link #panel}; then the bias, if any, per column of C or, when {@code biasPerRow}, per row. {@code ap}
     * holds interleaved blocks from row {@code apRow0} on.
     */
    private static void rowBlock(int m, int n, int k, float[] a, int aOff, int lda, float[] ap, int apRow0, float[] panels,
                                 int base, int q, int i, float[] bias, boolean biasPerRow, float[] c, int cOff, int ldc,
                                 float[] tmp) {
        int j0 = q * NR;
        int jn = Math.min(NR, n - j0);
        int rows = Math.min(MR, m - i);
        int r0 = aOff + i * lda;
        int o = cOff + i * ldc + j0;
        if (jn == NR && rows == MR) { // a whole block, stored in place
            if (ap != null) {
                kernel8p(k, ap, (i - apRow0) * k, panels, base, c, o, ldc);
            } else if (MR == 8) {
                kernel8(k, a, r0, lda, 7, panels, base, c, o, ldc);
            } else {
                kernel6(k, a, r0, lda, 5, panels, base, c, o, ldc);
            }
        } else { // an edge: computed into tmp, and only its real rows and columns copied out
            if (rows == MR && ap != null) {
                // whole interleaved rows of a partial last panel: a constant A whose rows are all in whole
                // blocks is then never read row-major (see Gemm.PackedA)
                kernel8p(k, ap, (i - apRow0) * k, panels, base, tmp, 0, NR);
            } else if (rows <= 4) { // missing rows repeat the last real one; their results are dropped
                kernel4(k, a, r0, lda, rows - 1, panels, base, tmp, 0, NR);
            } else if (MR == 8) {
                kernel8(k, a, r0, lda, rows - 1, panels, base, tmp, 0, NR);
            } else {
                kernel6(k, a, r0, lda, rows - 1, panels, base, tmp, 0, NR);
            }
            for (int r = 0; r < rows; r++) {
                System.arraycopy(tmp, r * NR, c, o + r * ldc, jn);
            }
        }
        if (bias != null) {
            addBias(bias, biasPerRow, i, rows, j0, jn, c, o, ldc);
        }
    }

    /** {@link #addBias} over all of an {@code [m, n]} C (the K = 0 products, whose sums are zeros). */
    private static void addBias(float[] bias, boolean perRow, int m, int n, float[] c, int cOff, int ldc) {
        for (int j0 = 0; j0 < n; j0 += NR) {
            addBias(bias, perRow, 0, m, j0, Math.min(NR, n - j0), c, cOff + j0, ldc);
        }
    }

    /**
     * {@code C[i + r][j0 + j] += bias} for r < rows, j < jn, the block at {@code c[o + r·ldc + j]}: the
     * bias value of column {@code j0 + j}, or of row {@code i + r} when {@code perRow} (a conv's output
     * channel). Whole panels in two vectors per row: a plain loop over 32 columns would run in C2's scalar
     * post-loop, its vector loop being unrolled past 32 floats.
     */
    private static void addBias(float[] bias, boolean perRow, int i, int rows, int j0, int jn, float[] c, int o, int ldc) {
        for (int r = 0; r < rows; r++) {
            int off = o + r * ldc;
            if (jn == NR) {
                FloatVector b0 = perRow ? FloatVector.broadcast(S, bias[i + r]) : FloatVector.fromArray(S, bias, j0);
                FloatVector b1 = perRow ? b0 : FloatVector.fromArray(S, bias, j0 + L);
                FloatVector.fromArray(S, c, off).add(b0).intoArray(c, off);
                FloatVector.fromArray(S, c, off + L).add(b1).intoArray(c, off + L);
            } else {
                for (int j = 0; j < jn; j++) {
                    c[off + j] += perRow ? bias[i + r] : bias[j0 + j];
                }
            }
        }
    }

    /** A constant A's whole 8-row blocks interleaved once for {@link #multiplyEach}, or null when {@link #MR} is not 8. */
    static float[] packConstantRows(int m, int k, float[] a, int aOff, int lda) {
        return MR == 8 ? packRows(m, k, a, aOff, lda) : null;
    }

    /** {@link #packConstantRows} of an A read from {@code a} ([M, K] row-major), eight rows at a time through a scratch array. */
    static float[] packConstantRows(int m, int k, Gemm.Source a) {
        if (MR != 8) {
            return null;
        }
        int blocks = m / 8;
        float[] ap = new float[blocks * 8 * k];
        float[] scratch = new float[8 * k];
        for (int blk = 0; blk < blocks; blk++) {
            a.read(blk * 8 * k, scratch, 0, 8 * k);
            interleave(k, scratch, 0, k, ap, blk * k * 8);
        }
        return ap;
    }

    /** Floats of A per task of {@link #multiplyEach} (256 KiB: a quarter of a 1 MiB L2, next to one B panel). */
    private static final int SHARED_A_CHUNK = 64 * 1024;

    /**
     * {@code C_r = A · B_r} for several B_r of the same shape (packed by {@link #pack}) and one A:
     * the group of a 1×1 conv, A its weight ([M, K], whole 8-row blocks interleaved in {@code ap}
     * by {@link #packConstantRows}). Each task takes a chunk of A's rows (≈ {@link #SHARED_A_CHUNK}
     * floats, so it stays in L2) and runs it against every panel of every B_r, so A is read from
     * memory once for all the products instead of once per product. Each C element is computed by
     * {@link #rowBlock} exactly as {@link #multiply} computes it. {@code rowBias} (one value per row of
     * every C_r: a conv's output channels) may be null; it is added as {@link #multiply} adds its bias.
     */
    static void multiplyEach(int m, int n, int k, float[] a, int aOff, int lda, float[] ap, float[] rowBias, float[][] bs,
                             float[][] cs, int[] cOffs, int ldc, boolean parallel) {
        multiplyEach(m, n, k, a, aOff, lda, ap, null, rowBias, bs, cs, cOffs, ldc, parallel);
    }

    /** True when A's rows are interleaved in 8-row blocks for this machine's kernel ({@link #packConstantRows}). */
    static boolean interleavesRows() {
        return MR == 8;
    }

    /**
     * {@link #multiplyEach(int, int, int, float[], int, int, float[], float[], float[][], float[][], int[], int, boolean)}
     * with A, when {@code ap} and {@code a} are null, read from {@code source} ({@code [M, K]} row-major, M a multiple
     * of 8): each task interleaves its chunk of blocks into a buffer of its own, as {@link #packConstantRows} would,
     * before its products.
     */
    static void multiplyEach(int m, int n, int k, float[] a, int aOff, int lda, float[] ap, Gemm.Source source,
                             float[] rowBias, float[][] bs, float[][] cs, int[] cOffs, int ldc, boolean parallel) {
        if (k == 0) {
            for (int r = 0; r < cs.length; r++) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(cs[r], cOffs[r] + i * ldc, cOffs[r] + i * ldc + n, 0f);
                }
                if (rowBias != null) {
                    addBias(rowBias, true, m, n, cs[r], cOffs[r], ldc);
                }
            }
            return;
        }
        int count = (n + NR - 1) / NR;
        int blocks = (m + MR - 1) / MR;
        int perTask = Math.max(1, Math.min(SHARED_A_CHUNK / (MR * k), (blocks + 3) / 4));
        int tasks = (blocks + perTask - 1) / perTask;
        boolean own = ap == null && source != null;
        Parallel.RangeBody body = (from, to) -> {
            float[] tmp = new float[MR * NR];
            float[] chunk = own ? new float[Math.min(perTask, blocks) * MR * k] : null;
            float[] rows = own ? new float[MR * k] : null;
            for (int t = from; t < to; t++) {
                int b0 = t * perTask;
                int b1 = Math.min(blocks, b0 + perTask);
                if (own) {
                    for (int blk = b0; blk < b1; blk++) {
                        source.read(blk * MR * k, rows, 0, MR * k);
                        interleave(k, rows, 0, k, chunk, (blk - b0) * k * MR);
                    }
                }
                float[] blocksOfA = own ? chunk : ap;
                int row0 = own ? b0 * MR : 0;
                for (int r = 0; r < bs.length; r++) {
                    for (int q = 0; q < count; q++) {
                        for (int blk = b0; blk < b1; blk++) {
                            rowBlock(m, n, k, a, aOff, lda, blocksOfA, row0, bs[r], q * k * NR, q, blk * MR, rowBias, true,
                                    cs[r], cOffs[r], ldc, tmp);
                        }
                    }
                }
            }
        };
        long flops = 2L * m * n * k * bs.length;
        if (parallel && flops >= (1 << 20)) {
            Parallel.forRange(tasks, 1, body);
        } else {
            body.run(0, tasks);
        }
    }

    /**
     * Eight rows of A (row r at {@code r0 + min(r, last)·lda}) times one panel, all of K, stored to
     * {@code out} at o, o + ld, …. One FMA per A element and vector, p ascending, from zero.
     * Used for tails of 5–7 rows, and for whole blocks of a one-panel product; other whole blocks take {@link #kernel8p}.
     */
    private static void kernel8(int k, float[] a, int r0, int lda, int last,
                                float[] b, int base, float[] out, int o, int ld) {
        int r1 = r0 + Math.min(1, last) * lda;
        int r2 = r0 + Math.min(2, last) * lda;
        int r3 = r0 + Math.min(3, last) * lda;
        int r4 = r0 + Math.min(4, last) * lda;
        int r5 = r0 + Math.min(5, last) * lda;
        int r6 = r0 + Math.min(6, last) * lda;
        int r7 = r0 + Math.min(7, last) * lda;
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
        FloatVector c60 = FloatVector.zero(S);
        FloatVector c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S);
        FloatVector c71 = FloatVector.zero(S);
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
            x = FloatVector.broadcast(S, a[r6 + p]);
            c60 = b0.fma(x, c60);
            c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(S, a[r7 + p]);
            c70 = b0.fma(x, c70);
            c71 = b1.fma(x, c71);
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
        c60.intoArray(out, o + 6 * ld);
        c61.intoArray(out, o + 6 * ld + L);
        c70.intoArray(out, o + 7 * ld);
        c71.intoArray(out, o + 7 * ld + L);
    }

    /** As {@link #kernel8} on eight rows interleaved by {@link #packRows}, starting at {@code ao}. */
    private static void kernel8p(int k, float[] a, int ao,
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
        FloatVector c60 = FloatVector.zero(S);
        FloatVector c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S);
        FloatVector c71 = FloatVector.zero(S);
        int bo = base;
        for (int p = 0; p < k; p++, bo += NR, ao += 8) {
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ao + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ao + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ao + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[ao + 4]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[ao + 5]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(S, a[ao + 6]);
            c60 = b0.fma(x, c60);
            c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(S, a[ao + 7]);
            c70 = b0.fma(x, c70);
            c71 = b1.fma(x, c71);
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
        c60.intoArray(out, o + 6 * ld);
        c61.intoArray(out, o + 6 * ld + L);
        c70.intoArray(out, o + 7 * ld);
        c71.intoArray(out, o + 7 * ld + L);
    }

    /** As {@link #kernel8} with six rows (the block for 16 vector registers; rows read in place). */
    private static void kernel6(int k, float[] a, int r0, int lda, int last,
                                float[] b, int base, float[] out, int o, int ld) {
        int r1 = r0 + Math.min(1, last) * lda;
        int r2 = r0 + Math.min(2, last) * lda;
        int r3 = r0 + Math.min(3, last) * lda;
        int r4 = r0 + Math.min(4, last) * lda;
        int r5 = r0 + Math.min(5, last) * lda;
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

    /** As {@link #kernel8} with four rows (tails of up to four rows). */
    private static void kernel4(int k, float[] a, int r0, int lda, int last,
                                float[] b, int base, float[] out, int o, int ld) {
        int r1 = r0 + Math.min(1, last) * lda;
        int r2 = r0 + Math.min(2, last) * lda;
        int r3 = r0 + Math.min(3, last) * lda;
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S);
        FloatVector c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S);
        FloatVector c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S);
        FloatVector c31 = FloatVector.zero(S);
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
        }
        c00.intoArray(out, o);
        c01.intoArray(out, o + L);
        c10.intoArray(out, o + ld);
        c11.intoArray(out, o + ld + L);
        c20.intoArray(out, o + 2 * ld);
        c21.intoArray(out, o + 2 * ld + L);
        c30.intoArray(out, o + 3 * ld);
        c31.intoArray(out, o + 3 * ld + L);
    }
}
