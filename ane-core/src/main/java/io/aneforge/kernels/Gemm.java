package io.aneforge.kernels;

import io.aneforge.vector.VectorPath;

/**
 * {@code C = op(A) · op(B)} on strided row-major matrices, overwriting C. {@code op(A)} is
 * M×K (stored [K, M] when {@code transA}), {@code op(B)} is K×N (stored [N, K] when
 * {@code transB}); {@code lda/ldb/ldc} are row strides of the stored matrices.
 *
 * <p>Fast path: op(B) is packed into column tiles of up to {@value #MAX_TILE} floats, one Java array
 * per row of each tile ({@link Packed}; a constant weight is packed once, see
 * {@link #pack}); C is accumulated two rows at a time in two tile-wide scratch arrays, four
 * K steps per pass ({@code rows2k4}), and copied out (plus an optional per-column bias).
 * Every element of C is one {@code Math.fma} chain over K in order, starting from +0, with the bias
 * added after it: the bits of {@link VectorGemm}, whatever the vector width, so a JVM without the
 * Vector API computes what one with it does (GPTQ's calibration statistics, and so a {@code -gptq}
 * package's bytes, depend on it). Where the JVM has no hardware FMA ({@code -XX:-UseFMA}, or a CPU
 * without it) {@code Math.fma} is a software routine ~1000× slower, and the loop multiplies and adds
 * instead ({@link #exactFma()}): the same values up to rounding, not the same bits.
 * Why this shape: C2 in JDK 17 turns a loop into SIMD code only when every array in it is
 * indexed by the bare loop counter (an {@code a[off + j]} with a run-time {@code off}, or
 * more than about six arrays, leaves it scalar, measured 4–8× slower), so every operand of
 * the inner loop is its own array indexed by {@code j}. Measured ≈ 80 GFLOP/s per core
 * on AVX-512 for L1-resident tiles.
 *
 * <p>When {@link VectorPath#enabled()} (the JVM runs with {@code --add-modules jdk.incubator.vector}),
 * {@link #pack} packs for {@link VectorGemm} instead, a register-blocked FMA kernel on the
 * Vector API; the loops here are the fallback and stay tested ({@code pack(..., false)}).
 */
public final class Gemm {

    /** Columns per packed tile used by the warm-up (any full tile works). */
    static final int TILE = 256;
    /**
     * Widest packed tile: a product up to this many columns is one tile, so the inner loop
     * runs over all N. Each call of {@link #rows2k4} pays a fixed ~26 ns (C2's scalar pre-loop
     * that aligns the vector loop, and its scalar tail), about 155 columns' worth of work:
     * measured 59 GFLOP/s at 256 columns, 64 at 384, 83 at 1536.
     */
    static final int MAX_TILE = 1536;
    /** Rows of C per parallel task (they reuse one K block of the panel while it is in L2; 64 measured slower). */
    static final int ROW_BLOCK = 32;
    /** K rows of the panel per block (up to 768 KiB of B at the widest tile: stays in a 1 MiB L2). */
    static final int K_BLOCK = 128;

    static {
        warmUp();
    }

    /**
     * Whether the plain kernel chains {@code Math.fma} (the vector kernel's bits) or multiplies and adds: true when
     * HotSpot reports hardware FMA ({@code UseFMA}), the case on x86-64 since Haswell / Zen and on AArch64.
     */
    static boolean exactFma() {
        return Fma.EXACT;
    }

    /**
     * Read when the plain kernel first runs, not when this class loads: asking HotSpot takes ~25 ms (the management
     * classes), which a JVM on the vector path, where nothing here reads it, should not pay at start-up.
     */
    private static final class Fma {
        static final boolean EXACT = hardwareFma();

        private static boolean hardwareFma() {
            try {
                com.sun.management.HotSpotDiagnosticMXBean hotspot = java.lang.management.ManagementFactory
                        .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
                return hotspot != null && "true".equals(hotspot.getVMOption("UseFMA").getValue());
            } catch (RuntimeException | LinkageError e) {
                return false; // not HotSpot, or the option is gone: keep the kernel that is fast everywhere
            }
        }
    }

    private Gemm() {
    }

    /**
     * Runs the packed kernel on a small, full-tile problem a few thousand times so that C2
     * compiles {@code rows}/{@code rows2k4} from a clean profile before real work arrives.
     * Without it the first compilation sometimes came out scalar (5-10x slower) when the
     * first products were large or odd-shaped (observed bimodally across JVM runs).
     */
    private static void warmUp() {
        int m = 8;
        int n = TILE;
        int k = 16;
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        java.util.Arrays.fill(a, 0.5f);
        java.util.Arrays.fill(b, 0.25f);
        Packed p = pack(k, n, b, 0, n, false);
        for (int r = 0; r < 3000; r++) {
            fast(m, a, 0, k, false, p, null, c, 0, n, false);
        }
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
        private final int tile;
        private final float[][][] rows; // [tile][p][tile width]; K rounded up to a multiple of 4 with zero rows
        private final float[] panels; // VectorGemm's layout; null for the plain kernel (then rows is set)
        private final Source source; // B stored [N, K], packed a panel at a time by each product; else null

        private Packed(int k, int n, int tile, float[][][] rows, float[] panels) {
            this(k, n, tile, rows, panels, null);
        }

        private Packed(int k, int n, int tile, float[][][] rows, float[] panels, Source source) {
            this.k = k;
            this.n = n;
            this.tile = tile;
            this.rows = rows;
            this.panels = panels;
            this.source = source;
        }

        /** True when packed for the Vector API kernel (now, or by each product). */
        boolean vector() {
            return panels != null || source != null;
        }

        public int k() {
            return k;
        }

        public int n() {
            return n;
        }
    }

    /**
     * A row-major matrix produced a range of elements at a time (a weight still encoded, decoded as it is
     * packed): {@code read(from, dst, off, n)} writes elements {@code [from, from + n)} to {@code dst} at
     * {@code off}. Packing from one never holds the whole matrix as floats, only the packed copy.
     */
    @FunctionalInterface
    public interface Source {
        void read(int from, float[] dst, int off, int n);
    }

    /**
     * {@link #pack(int, int, float[], int, int, boolean)} of a B stored {@code [N, K]} ({@code transB}) and read
     * from {@code b}: the same packed floats, decoded a panel's rows at a time into a scratch array (in cache)
     * instead of from a decoded copy of the whole weight, which the load otherwise writes, reads back and drops.
     */
    public static Packed packTransposed(int k, int n, Source b) {
        if (VectorPath.enabled()) {
            return new Packed(k, n, 0, null, VectorGemm.packTransposed(k, n, b));
        }
        float[] whole = new float[Math.multiplyExact(k, n)];
        b.read(0, whole, 0, whole.length);
        return pack(k, n, whole, 0, k, true, false);
    }

    /**
     * {@link #packTransposed(int, int, Source)} deferred to the products: each product packs each panel of B from
     * {@code b} into a buffer of its own (in cache) just before the panel's sums, and drops it after, so the packed
     * copy of B is never held. The same floats in the same kernels: the products' bits are the packed B's. For a
     * weight used by one product (a model loaded to run once): the whole packed copy is written, and read back from
     * memory, for nothing; a B used by many products pays its decoding and packing in each. Packed now where the
     * Vector API kernel is off.
     */
    public static Packed packTransposedOnUse(int k, int n, Source b) {
        return VectorPath.enabled() ? new Packed(k, n, 0, null, null, b) : packTransposed(k, n, b);
    }

    /** Packs op(B) ({@code [K, N]}, or stored {@code [N, K]} when {@code transB}) for the kernel in use. */
    public static Packed pack(int k, int n, float[] b, int bOff, int ldb, boolean transB) {
        return pack(k, n, b, bOff, ldb, transB, VectorPath.enabled());
    }

    /** As {@link #pack(int, int, float[], int, int, boolean)}; {@code vector} picks the kernel (true only when enabled). */
    static Packed pack(int k, int n, float[] b, int bOff, int ldb, boolean transB, boolean vector) {
        if (vector) {
            return new Packed(k, n, 0, null, VectorGemm.pack(k, n, b, bOff, ldb, transB));
        }
        int tile = tileWidth(n);
        int tiles = (n + tile - 1) / tile;
        int kp = (k + 3) & ~3;
        float[][][] rows = new float[tiles][kp][];
        for (int t = 0; t < tiles; t++) {
            int j0 = t * tile;
            int jn = Math.min(tile, n - j0);
            for (int p = 0; p < kp; p++) {
                float[] r = new float[tile];
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
        return new Packed(k, n, tile, rows, null);
    }

    /** All of N when it fits {@link #MAX_TILE}, else equal tiles (multiples of 16 floats, one AVX-512 vector). */
    static int tileWidth(int n) {
        if (n <= MAX_TILE) {
            return Math.max(1, n);
        }
        int tiles = (n + MAX_TILE - 1) / MAX_TILE;
        return ((n + tiles - 1) / tiles + 15) & ~15;
    }

    /**
     * A constant left operand A ({@code [M, K]}, row-major) prepared once for {@link #multiplyEach}: its
     * rows interleaved in 8-row blocks for the Vector API kernel, and A itself by reference where a product
     * still reads rows in place (the plain kernel, 6-row blocks, a tail of fewer than 8 rows). When every
     * row is in an interleaved block, A is not kept, so a weight copied this way is held once, not twice.
     */
    public static final class PackedA {
        private final int m;
        private final int k;
        private final float[] a; // null when rows holds every row
        private final int aOff;
        private final int lda;
        private final float[] rows; // VectorGemm's interleaved 8-row blocks; null for the plain kernel or 6-row blocks
        private final Source source; // A, interleaved a chunk of blocks at a time by each product; else null

        private PackedA(int m, int k, float[] a, int aOff, int lda, float[] rows) {
            this(m, k, a, aOff, lda, rows, null);
        }

        private PackedA(int m, int k, float[] a, int aOff, int lda, float[] rows, Source source) {
            this.m = m;
            this.k = k;
            this.a = (rows != null || source != null) && m % 8 == 0 ? null : a;
            this.aOff = aOff;
            this.lda = lda;
            this.rows = rows;
            this.source = source;
        }

        /** Whether A's row-major array is still referenced (see the class comment). */
        boolean holdsRowMajor() {
            return a != null;
        }
    }

    /**
     * {@link #packA(int, int, float[], int, int)} of an A read from {@code a}: where every row falls in an
     * interleaved 8-row block, the blocks are filled a block at a time from a scratch array and A is never held
     * row-major; otherwise A is read whole.
     */
    public static PackedA packA(int m, int k, Source a) {
        if (VectorPath.enabled() && m % 8 == 0) {
            float[] rows = VectorGemm.packConstantRows(m, k, a);
            if (rows != null) {
                return new PackedA(m, k, null, 0, k, rows);
            }
        }
        float[] whole = new float[Math.multiplyExact(m, k)];
        a.read(0, whole, 0, whole.length);
        return packA(m, k, whole, 0, k);
    }

    /**
     * {@link #packA(int, int, Source)} deferred to the products, as {@link #packTransposedOnUse} defers B's: each
     * task of a product interleaves its chunk of A's 8-row blocks from {@code a} into a buffer of its own just
     * before using it. Packed now where the Vector API kernel is off or a row falls outside the blocks.
     */
    public static PackedA packAOnUse(int m, int k, Source a) {
        if (VectorPath.enabled() && m % 8 == 0 && VectorGemm.interleavesRows()) {
            return new PackedA(m, k, null, 0, k, null, a);
        }
        return packA(m, k, a);
    }

    /** Prepares A (kept by reference where needed, not copied: it must not change) for {@link #multiplyEach}. */
    public static PackedA packA(int m, int k, float[] a, int aOff, int lda) {
        float[] rows = VectorPath.enabled() ? VectorGemm.packConstantRows(m, k, a, aOff, lda) : null;
        return new PackedA(m, k, a, aOff, lda, rows);
    }

    /**
     * {@code C_r = A · B_r} for each r: B_r is {@code [K, n]} at {@code bs[r][bOffs[r]]}, row stride n, and
     * C_r is {@code [M, n]} at {@code cs[r][cOffs[r]]}, row stride n. Each C_r is bit for bit what
     * {@link #fast(int, int, int, float[], int, int, boolean, float[], int, int, boolean, float[], int, int, boolean)}
     * gives for A · B_r alone; on the Vector API kernel all the products run together so that A is
     * read from memory once, not once per product. {@code rowBias} (may be null) is then added to
     * every row i of every C_r, {@code C_r[i][j] += rowBias[i]}, as a pass over C_r afterwards would.
     */
    public static void multiplyEach(PackedA a, float[] rowBias, int n, float[][] bs, int[] bOffs, float[][] cs, int[] cOffs,
                                    boolean parallel) {
        int m = a.m;
        int k = a.k;
        if (m == 0 || n == 0) {
            return;
        }
        if (!VectorPath.enabled()) {
            for (int r = 0; r < bs.length; r++) {
                fast(m, n, k, a.a, a.aOff, a.lda, false, bs[r], bOffs[r], n, false, cs[r], cOffs[r], n, parallel);
                if (rowBias != null) {
                    for (int i = 0; i < m; i++) {
                        int o = cOffs[r] + i * n;
                        for (int j = 0; j < n; j++) {
                            cs[r][o + j] += rowBias[i];
                        }
                    }
                }
            }
            return;
        }
        float[][] panels = new float[bs.length][];
        for (int r = 0; r < bs.length; r++) {
            panels[r] = VectorGemm.pack(k, n, bs[r], bOffs[r], n, false);
        }
        VectorGemm.multiplyEach(m, n, k, a.a, a.aOff, a.lda, a.rows, a.source, rowBias, panels, cs, cOffs, n, parallel);
    }

    /**
     * {@code C = A · [B_0 | B_1 | …]} over the first {@code ns[r]} columns of each B_r ({@code [K, ·]} at
     * {@code bs[r][bOffs[r]]}, row stride {@code ldb}), side by side as one product of {@code Σ ns[r]} columns;
     * returns C ({@code [M, Σ ns[r]]}, row-major) with {@code rowBias} (may be null) added to every row. Each
     * column is, bit for bit, that column of {@link #multiplyEach} for its B_r: every element is one chain over
     * K in order (both kernels), whatever the tiling, and the bias is added after it.
     */
    public static float[] multiplyConcatenated(PackedA a, float[] rowBias, float[][] bs, int[] bOffs, int ldb, int[] ns,
                                               boolean parallel) {
        int m = a.m;
        int k = a.k;
        int total = 0;
        for (int n : ns) {
            total += n;
        }
        float[] c = new float[m * total];
        if (m == 0 || total == 0) {
            return c;
        }
        if (VectorPath.enabled()) {
            float[] panels = VectorGemm.packColumns(k, bs, bOffs, ldb, ns);
            VectorGemm.multiplyEach(m, total, k, a.a, a.aOff, a.lda, a.rows, a.source, rowBias, new float[][]{panels},
                    new float[][]{c}, new int[]{0}, total, parallel);
            return c;
        }
        float[] b = new float[k * total];
        for (int r = 0, at = 0; r < bs.length; at += ns[r++]) {
            for (int p = 0; p < k; p++) {
                System.arraycopy(bs[r], bOffs[r] + p * ldb, b, p * total + at, ns[r]);
            }
        }
        fast(m, total, k, a.a, a.aOff, a.lda, false, b, 0, total, false, c, 0, total, parallel);
        if (rowBias != null) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < total; j++) {
                    c[i * total + j] += rowBias[i];
                }
            }
        }
        return c;
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
        if (b.panels != null || b.source != null) {
            VectorGemm.multiply(m, n, k, a, aOff, lda, b.panels, b.source, bias, c, cOff, ldc, parallel);
            return;
        }
        final float[] fa = a;
        final int fao = aOff;
        final int flda = lda;
        int tiles = b.rows.length;
        int rowBlocks = (m + ROW_BLOCK - 1) / ROW_BLOCK;
        int tasks = tiles * rowBlocks;
        int tw = b.tile;
        Parallel.RangeBody body = (from, to) -> {
            float[] d0 = new float[tw];
            float[] d1 = new float[tw];
            for (int t = from; t < to; t++) {
                int tile = t / rowBlocks;
                int i0 = (t % rowBlocks) * ROW_BLOCK;
                int j0 = tile * tw;
                int jn = Math.min(tw, n - j0);
                int i1 = Math.min(m, i0 + ROW_BLOCK);
                rows(fa, fao, flda, k, b.rows[tile], j0, jn, c, cOff, ldc, i0, i1, d0, d1);
            }
        };
        if (parallel) {
            long flops = 2L * m * n * k;
            Parallel.forRange(tasks, flops < (1 << 20) ? tasks : 1, body);
        } else {
            body.run(0, tasks);
        }
        if (bias != null) { // a separate pass: see rows()
            addBias(bias, n, c, cOff, ldc, m);
        }
    }

    /**
     * Rows i0..i1 of one column tile of C. Keep this method free of other loops over C (the
     * bias is added separately): with a bias loop inlined here C2 stopped vectorizing
     * {@link #rows2k4} (measured 39 → 3 GFLOP/s).
     */
    private static void rows(float[] a, int aOff, int lda, int k, float[][] br, int j0, int jn,
                             float[] c, int cOff, int ldc, int i0, int i1, float[] d0, float[] d1) {
        if (k == 0) {
            for (int i = i0; i < i1; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc + j0, cOff + i * ldc + j0 + jn, 0f);
            }
            return;
        }
        for (int kb = 0; kb < k; kb += K_BLOCK) {
            int ke = Math.min(k, kb + K_BLOCK);
            boolean first = kb == 0;
            for (int i = i0; i < i1; i += 2) {
                boolean two = i + 1 < i1;
                int o0 = cOff + i * ldc + j0;
                int o1 = o0 + ldc;
                if (first) {
                    java.util.Arrays.fill(d0, 0, jn, 0f);
                    java.util.Arrays.fill(d1, 0, jn, 0f);
                } else { // partial sums of the earlier K blocks
                    System.arraycopy(c, o0, d0, 0, jn);
                    if (two) {
                        System.arraycopy(c, o1, d1, 0, jn);
                    }
                }
                int r0 = aOff + i * lda;
                int r1 = two ? r0 + lda : r0; // an odd last row is computed twice, the copy discarded
                int p = kb;
                int k4 = kb + ((ke - kb) & ~3);
                for (; p < k4; p += 4) {
                    rows2k4(d0, d1, br[p], br[p + 1], br[p + 2], br[p + 3], jn,
                            a[r0 + p], a[r0 + p + 1], a[r0 + p + 2], a[r0 + p + 3],
                            a[r1 + p], a[r1 + p + 1], a[r1 + p + 2], a[r1 + p + 3]);
                }
                if (p < ke) { // K tail (only in the last block): packed rows past K are zero, pad A with zeros
                    float[] x = new float[4];
                    float[] y = new float[4];
                    for (int q = 0; p + q < ke; q++) {
                        x[q] = a[r0 + p + q];
                        y[q] = a[r1 + p + q];
                    }
                    rows2k4(d0, d1, br[p], br[p + 1], br[p + 2], br[p + 3], jn, x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]);
                }
                System.arraycopy(d0, 0, c, o0, jn);
                if (two) {
                    System.arraycopy(d1, 0, c, o1, jn);
                }
            }
        }
    }

    private static void addBias(float[] bias, int n, float[] c, int cOff, int ldc, int m) {
        for (int i = 0; i < m; i++) {
            int o = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                c[o + j] += bias[j];
            }
        }
    }

    /**
     * Two rows of C += 2×4 block of A times four rows of B, over arrays indexed by {@code j}. With hardware FMA
     * one row at a time, each element's four steps one {@code Math.fma} after another ({@code row1k4}): C2
     * (JDK 17) vectorizes that one-row loop, while the same chain over two rows in one loop stayed scalar
     * (13 against 42 GFLOP/s on one Zen 4 core); the mul-and-add loop below is ~1.4× as fast, with other bits.
     */
    private static void rows2k4(float[] d0, float[] d1, float[] x0, float[] x1, float[] x2, float[] x3, int n,
                                float a0, float a1, float a2, float a3, float e0, float e1, float e2, float e3) {
        if (Fma.EXACT) {
            row1k4(d0, x0, x1, x2, x3, n, a0, a1, a2, a3);
            row1k4(d1, x0, x1, x2, x3, n, e0, e1, e2, e3);
            return;
        }
        rows2k4MulAdd(d0, d1, x0, x1, x2, x3, n, a0, a1, a2, a3, e0, e1, e2, e3);
    }

    /** One row of C += four K steps, p ascending, one rounding per step: {@link VectorGemm}'s chain. */
    private static void row1k4(float[] d, float[] x0, float[] x1, float[] x2, float[] x3, int n,
                               float a0, float a1, float a2, float a3) {
        for (int j = 0; j < n; j++) {
            d[j] = Math.fma(a3, x3[j], Math.fma(a2, x2[j], Math.fma(a1, x1[j], Math.fma(a0, x0[j], d[j]))));
        }
    }

    /** Without hardware FMA: plain multiplies and adds, two rows per loop. */
    private static void rows2k4MulAdd(float[] d0, float[] d1, float[] x0, float[] x1, float[] x2, float[] x3, int n,
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
