package io.aneforge.quant;

import java.util.Arrays;

/**
 * Fast path of {@link WeightQuantizer} for groups of a power-of-two length (block-wise
 * weights: 32, 64, 128 elements), bit-identical to the reference.
 *
 * <p>Why it looks like this: HotSpot C2 (JDK 17) vectorizes a loop only when every array
 * access in it has the same offset modulo the vector width (16 floats with AVX-512), and it
 * does not vectorize short (32-trip) loops or float → byte narrowing. So a chunk of whole
 * groups is processed in long same-index loops over L1-resident scratch arrays:
 * <ol>
 *   <li>range of every group at once by a halving tree: level {@code d} sets
 *       {@code a[i] = max(a[i], a[i + d])} for all i, so after levels len/2 … 1 the position
 *       {@code k·len} holds the extreme of group k (other positions hold junk that is never read).
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
 * bit, which flips {@code rint} at ties.
 */
final class BlockKernel {

    /** Elements per chunk: the eight scratch arrays (≈ 60 KB) stay in L1/L2. */
    static final int CHUNK = 2048;
    /** 1.5·2^23: (x + M) − M rounds a float with |x| < 2^22 to an integer, half to even. */
    static final float RINT_MAGIC = 12582912f;

    private BlockKernel() {
    }

    /** Group lengths this kernel handles: powers of two from 32 to {@link #CHUNK}. */
    static boolean supports(int len) {
        return len >= 32 && len <= CHUNK && Integer.bitCount(len) == 1;
    }

    /** Quantizes groups {@code [g0, g1)} of {@code w}; same outputs as the reference for those groups. */
    static void quantize(int[] shape, float[] w, int len, int g0, int g1, GroupScale grid,
                         byte[] q, float[] scales, byte[] zps) {
        if (g0 >= g1) {
            return;
        }
        if (!supports(len)) {
            throw new IllegalStateException("BlockKernel called with group length " + len);
        }
        int chunkGroups = Math.min(g1 - g0, CHUNK / len);
        int chunk = chunkGroups * len;
        boolean symmetric = grid.symmetric();
        boolean withZeroPoint = !grid.zeroPointAlwaysZero();
        // Padding: tree levels read up to len/2 past the chunk (junk positions only).
        float[] wc = new float[chunk + len];
        float[] hiA = new float[chunk + len];
        float[] hiB = new float[chunk + len];
        float[] loA = symmetric ? null : new float[chunk + len];
        float[] loB = symmetric ? null : new float[chunk + len];
        float[] sRow = new float[chunk];
        float[] zRow = withZeroPoint ? new float[chunk] : null;
        float[] t = new float[chunk];
        byte[] qc = new byte[chunk];
        float lo = RINT_MAGIC + grid.lo();
        float hi = RINT_MAGIC + grid.hi();
        for (int c0 = g0; c0 < g1; c0 += chunkGroups) {
            int groups = Math.min(chunkGroups, g1 - c0);
            int n = groups * len;
            int base = c0 * len;
            System.arraycopy(w, base, wc, 0, n);
            if (symmetric) {
                maxAbsTree(wc, n, len, hiA, hiB);
            } else {
                rangeTree(wc, n, len, hiA, hiB, loA, loB);
            }
            for (int k = 0; k < groups; k++) {
                int g = c0 + k;
                int r = k * len;
                float mx;
                float mn;
                if (symmetric) {
                    mx = hiA[r];
                    mn = -mx;
                } else {
                    // The reference range includes 0.
                    mx = Math.max(0f, hiA[r]);
                    mn = Math.min(0f, loA[r]);
                }
                WeightQuantizer.checkFinite(grid.name(), shape, w, base + r, len, mx, mn);
                float s = symmetric ? grid.symmetricScale(mx, g) : grid.scale(mx, mn, g);
                scales[g] = s;
                Arrays.fill(sRow, r, r + len, s);
                if (withZeroPoint) {
                    int zp = grid.zeroPoint(mx, mn);
                    if (zps != null) {
                        zps[g] = (byte) zp;
                    }
                    Arrays.fill(zRow, r, r + len, zp);
                }
            }
            // Same index in every array: with mixed offsets C2 leaves these loops scalar.
            if (withZeroPoint) {
                for (int i = 0; i < n; i++) {
                    float x = (wc[i] / sRow[i] + RINT_MAGIC) + zRow[i];
                    t[i] = Math.min(hi, Math.max(lo, x));
                }
            } else {
                for (int i = 0; i < n; i++) {
                    float x = wc[i] / sRow[i] + RINT_MAGIC;
                    t[i] = Math.min(hi, Math.max(lo, x));
                }
            }
            for (int i = 0; i < n; i++) {
                qc[i] = (byte) Float.floatToRawIntBits(t[i]);
            }
            System.arraycopy(qc, 0, q, base, n);
        }
    }

    /** After this, {@code a[k·len] = max |w|} over group k (0 when all zero; NaN/inf propagate). */
    private static void maxAbsTree(float[] wc, int n, int len, float[] a, float[] b) {
        int d = len / 2;
        System.arraycopy(wc, d, b, 0, n);
        for (int i = 0; i < n; i++) {
            a[i] = Math.max(Math.abs(wc[i]), Math.abs(b[i]));
        }
        for (d /= 2; d >= 1; d /= 2) {
            // A copy shifted by d instead of a[i + d]: C2 vectorizes only when all accesses share one alignment.
            System.arraycopy(a, d, b, 0, n);
            for (int i = 0; i < n; i++) {
                a[i] = Math.max(a[i], b[i]);
            }
        }
    }

    /** After this, {@code hi[k·len]} / {@code lo[k·len]} are the max / min of group k. */
    private static void rangeTree(float[] wc, int n, int len, float[] hi, float[] hiTmp, float[] lo, float[] loTmp) {
        int d = len / 2;
        System.arraycopy(wc, d, hiTmp, 0, n);
        for (int i = 0; i < n; i++) {
            float u = wc[i];
            float v = hiTmp[i];
            hi[i] = Math.max(u, v);
            lo[i] = Math.min(u, v);
        }
        for (d /= 2; d >= 1; d /= 2) {
            System.arraycopy(hi, d, hiTmp, 0, n);
            System.arraycopy(lo, d, loTmp, 0, n);
            for (int i = 0; i < n; i++) {
                hi[i] = Math.max(hi[i], hiTmp[i]);
                lo[i] = Math.min(lo[i], loTmp[i]);
            }
        }
    }
}
