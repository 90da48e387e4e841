package io.aneforge.quant;

import io.aneforge.vector.VectorPath;

import java.util.Arrays;

/**
 * Fast path of {@link WeightQuantizer}, bit-identical to the reference. Built for block-wise
 * weights (groups of 32, 64, 128 elements: the range comes from a vectorized tree); other
 * group lengths (per-channel rows, conv blocks) get a scalar range scan and the same
 * vectorized quantize loops.
 *
 * <p>Why it looks like this: HotSpot C2 (JDK 17) vectorizes a loop only when every array
 * access in it has the same offset modulo the vector width (16 floats with AVX-512), and it
 * does not vectorize short (32-trip) loops or float → byte narrowing. So a chunk of whole
 * groups is processed in long same-index loops over L1-resident scratch arrays:
 * <ol>
 *   <li>range of every group at once by a halving tree: level {@code d} sets
 *       {@code a[i] = max(a[i], a[i + d])} for all i, so after levels len/2 … 1 the position
 *       {@code k·len} holds the extreme of group k (other positions hold junk that is never read;
 *       the last two levels are done per group in scalar code).
 *       {@code a[i + d]} is read from a copy shifted by d: with a variable offset C2 cannot
 *       prove the two accesses aligned alike and leaves the loop scalar;</li>
 *   <li>scale and zero point per group ({@link GroupScale}, scalar, once per group), spread
 *       into per-element rows;</li>
 *   <li>{@code t = clamp((w / s + M) + zp)} with M = 1.5·2^23: adding M rounds half to even
 *       exactly like {@code rint} (|w/s| ≤ 256 ≪ 2^22), {@code + zp} and the clamp are exact;</li>
 *   <li>narrowing: the float {@code M + q} has q in the low byte of its bits (scalar, but
 *       cheaper than {@code (int)} which checks for overflow).</li>
 * </ol>
 * The division stays a division: {@code w · (1/s)} can differ from {@code w / s} in the last
 * bit, which changes {@code rint} next to halfway points; an exact correction would need
 * compares and selects, which C2 (JDK 17) does not vectorize either. The scalar narrowing is
 * the largest single cost left (about a quarter), then the range trees and the row fills.
 *
 * <p>When {@link VectorPath#enabled()}, groups that are whole vectors go to
 * {@link VectorBlockKernel} instead (same results bit for bit); this class stays the fallback
 * and is tested directly ({@code quantize(..., false)}).
 */
final class BlockKernel {

    /** Elements per chunk: the scratch arrays (≈ 45 KB symmetric, 70 KB affine) stay in L1/L2. */
    static final int CHUNK = 2048;
    /**
     * The trees stop at this many partial results per group, finished with three scalar max:
     * the last two levels (a shifted copy and a pass over the whole chunk each) cost more.
     */
    private static final int PARTIALS = 4;
    /** 1.5·2^23: (x + M) − M rounds a float with |x| < 2^22 to an integer, half to even. */
    static final float RINT_MAGIC = 12582912f;

    private BlockKernel() {
    }

    /** Group lengths whose range comes from the vectorized tree; other lengths use a scalar scan per group. */
    static boolean treeFits(int len) {
        return len >= 32 && len <= CHUNK && Integer.bitCount(len) == 1;
    }

    /** Quantizes groups {@code [g0, g1)} of {@code w}; same outputs as the reference for those groups. */
    static void quantize(int[] shape, float[] w, int len, int g0, int g1, GroupScale grid,
                         byte[] q, float[] scales, byte[] zps) {
        quantize(shape, w, len, g0, g1, grid, q, scales, zps, VectorPath.enabled());
    }

    /** As above; {@code vector} picks the Vector API kernel (pass true only when it is enabled). */
    static void quantize(int[] shape, float[] w, int len, int g0, int g1, GroupScale grid,
                         byte[] q, float[] scales, byte[] zps, boolean vector) {
        if (vector && g0 < g1 && VectorBlockKernel.fits(len)) {
            VectorBlockKernel.quantize(shape, w, len, g0, g1, grid, q, scales, zps);
            return;
        }
        if (g0 >= g1) {
            return;
        }
        if (len <= 0) {
            throw new IllegalStateException("BlockKernel called with group length " + len);
        }
        // A group longer than a chunk (per-channel weights with I > CHUNK) is a chunk of its own.
        int chunkGroups = Math.max(1, Math.min(g1 - g0, CHUNK / len));
        Scratch scratch = new Scratch(chunkGroups * len, len, grid);
        for (int c0 = g0; c0 < g1; c0 += chunkGroups) {
            quantizeChunk(scratch, shape, w, len, c0, Math.min(chunkGroups, g1 - c0), grid, q, scales, zps);
        }
    }

    /**
     * Range of one group including 0, for lengths the tree does not fit (per-channel rows,
     * conv blocks of B·kH·kW): max in the high, min in the low 32 bits. Four independent
     * accumulator pairs: a single Math.max chain is latency-bound.
     */
    private static long scanRange(float[] x, int off, int len) {
        float x0 = 0f;
        float x1 = 0f;
        float x2 = 0f;
        float x3 = 0f;
        float n0 = 0f;
        float n1 = 0f;
        float n2 = 0f;
        float n3 = 0f;
        int i = off;
        int end = off + len;
        for (; i + 4 <= end; i += 4) {
            x0 = Math.max(x0, x[i]);
            x1 = Math.max(x1, x[i + 1]);
            x2 = Math.max(x2, x[i + 2]);
            x3 = Math.max(x3, x[i + 3]);
            n0 = Math.min(n0, x[i]);
            n1 = Math.min(n1, x[i + 1]);
            n2 = Math.min(n2, x[i + 2]);
            n3 = Math.min(n3, x[i + 3]);
        }
        for (; i < end; i++) {
            x0 = Math.max(x0, x[i]);
            n0 = Math.min(n0, x[i]);
        }
        float mx = Math.max(Math.max(x0, x1), Math.max(x2, x3));
        float mn = Math.min(Math.min(n0, n1), Math.min(n2, n3));
        return ((long) Float.floatToRawIntBits(mx) << 32) | (Float.floatToRawIntBits(mn) & 0xffff_ffffL);
    }

    /** Per-range working arrays, reused for every chunk. */
    private static final class Scratch {
        final float[] wc;
        final float[] hiA;
        final float[] hiB;
        final float[] loA;
        final float[] loB;
        final float[] sRow;
        final float[] zRow;
        final float[] t;
        final byte[] qc;

        Scratch(int chunk, int len, GroupScale grid) {
            boolean symmetric = grid.symmetric() || !treeFits(len);
            // Padding: the first tree level reads len/2 past the chunk (junk positions only).
            wc = new float[chunk + len];
            hiA = new float[chunk + len];
            hiB = new float[chunk + len];
            loA = symmetric ? null : new float[chunk + len];
            loB = symmetric ? null : new float[chunk + len];
            sRow = new float[chunk];
            zRow = grid.zeroPointAlwaysZero() ? null : new float[chunk];
            t = new float[chunk];
            qc = new byte[chunk];
        }
    }

    /** Groups {@code [c0, c0 + groups)}; one call per chunk keeps this method small and hot. */
    private static void quantizeChunk(Scratch s, int[] shape, float[] w, int len, int c0, int groups, GroupScale grid,
                                      byte[] q, float[] scales, byte[] zps) {
        boolean symmetric = grid.symmetric();
        boolean withZeroPoint = !grid.zeroPointAlwaysZero();
        float[] hiA = s.hiA;
        float[] loA = s.loA;
        float[] sRow = s.sRow;
        float[] zRow = s.zRow;
        int n = groups * len;
        int base = c0 * len;
        System.arraycopy(w, base, s.wc, 0, n);
        boolean tree = treeFits(len);
        if (tree && symmetric) {
            maxAbsTree(s.wc, n, len, hiA, s.hiB);
        } else if (tree) {
            rangeTree(s.wc, n, len, hiA, s.hiB, loA, s.loB);
        }
        for (int k = 0; k < groups; k++) {
            int g = c0 + k;
            int r = k * len;
            float mx;
            float mn;
            if (!tree) {
                long range = scanRange(s.wc, r, len);
                mx = Float.intBitsToFloat((int) (range >>> 32));
                mn = Float.intBitsToFloat((int) range);
            } else if (symmetric) {
                mx = Math.max(Math.max(hiA[r], hiA[r + 1]), Math.max(hiA[r + 2], hiA[r + 3]));
                mn = -mx;
            } else {
                // The reference range includes 0.
                mx = Math.max(Math.max(0f, Math.max(hiA[r], hiA[r + 1])), Math.max(hiA[r + 2], hiA[r + 3]));
                mn = Math.min(Math.min(0f, Math.min(loA[r], loA[r + 1])), Math.min(loA[r + 2], loA[r + 3]));
            }
            WeightQuantizer.checkFinite(grid.name(), shape, w, base + r, len, mx, mn);
            float scale = symmetric && tree ? grid.symmetricScale(mx, g) : grid.scale(mx, mn, g);
            scales[g] = scale;
            Arrays.fill(sRow, r, r + len, scale);
            if (withZeroPoint) {
                int zp = grid.zeroPoint(mx, mn);
                if (zps != null) {
                    zps[g] = (byte) zp;
                }
                Arrays.fill(zRow, r, r + len, zp);
            }
        }
        float lo = RINT_MAGIC + grid.lo();
        float hi = RINT_MAGIC + grid.hi();
        if (withZeroPoint) {
            divideRoundShift(s.wc, sRow, zRow, s.t, n, lo, hi);
        } else {
            divideRound(s.wc, sRow, s.t, n, lo, hi);
        }
        narrow(s.t, s.qc, n);
        System.arraycopy(s.qc, 0, q, base, n);
    }

    // Each loop in its own small method: C2 compiles them early and separately (one large
    // method took seconds to get compiled on a busy machine, and ran interpreted meanwhile).
    // Same index in every array: with mixed offsets C2 leaves these loops scalar.

    private static void divideRound(float[] wc, float[] sRow, float[] t, int n, float lo, float hi) {
        for (int i = 0; i < n; i++) {
            float x = wc[i] / sRow[i] + RINT_MAGIC;
            t[i] = Math.min(hi, Math.max(lo, x));
        }
    }

    private static void divideRoundShift(float[] wc, float[] sRow, float[] zRow, float[] t, int n, float lo, float hi) {
        for (int i = 0; i < n; i++) {
            float x = (wc[i] / sRow[i] + RINT_MAGIC) + zRow[i];
            t[i] = Math.min(hi, Math.max(lo, x));
        }
    }

    /** {@code M + q} has q in the low byte of its bits (M = 0x4B400000 as bits). */
    private static void narrow(float[] t, byte[] qc, int n) {
        for (int i = 0; i < n; i++) {
            qc[i] = (byte) Float.floatToRawIntBits(t[i]);
        }
    }

    private static void maxInto(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) {
            a[i] = Math.max(a[i], b[i]);
        }
    }

    private static void minInto(float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) {
            a[i] = Math.min(a[i], b[i]);
        }
    }

    /** After this, {@code max |w|} over group k is the max of {@code a[k·len, k·len + PARTIALS)} (NaN/inf propagate). */
    private static void maxAbsTree(float[] wc, int n, int len, float[] a, float[] b) {
        int d = len / 2;
        System.arraycopy(wc, d, b, 0, n);
        for (int i = 0; i < n; i++) {
            a[i] = Math.max(Math.abs(wc[i]), Math.abs(b[i]));
        }
        for (d /= 2; d >= PARTIALS; d /= 2) {
            // A copy shifted by d instead of a[i + d]: C2 vectorizes only when all accesses share one alignment.
            System.arraycopy(a, d, b, 0, n);
            maxInto(a, b, n);
        }
    }

    /** After this, the max / min of group k are those of {@code hi} / {@code lo} over {@code [k·len, k·len + PARTIALS)}. */
    private static void rangeTree(float[] wc, int n, int len, float[] hi, float[] hiTmp, float[] lo, float[] loTmp) {
        int d = len / 2;
        System.arraycopy(wc, d, hiTmp, 0, n);
        for (int i = 0; i < n; i++) {
            float u = wc[i];
            float v = hiTmp[i];
            hi[i] = Math.max(u, v);
            lo[i] = Math.min(u, v);
        }
        for (d /= 2; d >= PARTIALS; d /= 2) {
            System.arraycopy(hi, d, hiTmp, 0, n);
            maxInto(hi, hiTmp, n);
            System.arraycopy(lo, d, loTmp, 0, n);
            minInto(lo, loTmp, n);
        }
    }
}
