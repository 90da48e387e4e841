package io.aneforge.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BlockKernel} on the incubator Vector API, bit-identical to it (and so to the
 * reference): reached only when {@link io.aneforge.vector.VectorPath#enabled()} (this class
 * names incubator types). One group at a time, straight from the weights, no scratch rows:
 * <ol>
 *   <li>range: lane-wise max of {@code |w|} (symmetric) or max and min of {@code w} (affine),
 *       then one cross-lane reduction, on the bits as ordered ints (see {@code maxAbs}); the
 *       same values as {@code Math.max/min}, and NaN and ±inf still reach
 *       {@link WeightQuantizer#checkFinite};</li>
 *   <li>scale and zero point from {@link GroupScale}, the same calls as {@link BlockKernel};</li>
 *   <li>{@code t = clamp((w / s + M) + zp)}, M = 1.5·2^23, exactly the plain kernel's float
 *       operations (a true division, so the same roundings), then the low byte of t's bits,
 *       narrowed int → byte in registers: the step C2 leaves scalar in the plain kernel.</li>
 * </ol>
 * Only for group lengths that are whole vectors; others take the plain kernel.
 */
final class VectorBlockKernel {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Bytes with as many lanes as S has floats (128-bit for 16 lanes); a constant species C2 can see through. */
    private static final VectorSpecies<Byte> B = L == 16 ? ByteVector.SPECIES_128 : L == 8 ? ByteVector.SPECIES_64
            : VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    private VectorBlockKernel() {
    }

    /** Group lengths this kernel takes: whole vectors. */
    static boolean fits(int len) {
        return len >= L && len % L == 0;
    }

    /** Groups per batch: ranges, then scales, then quantization, each a loop over the batch. */
    private static final int BATCH = 64;

    /**
     * Groups {@code [g0, g1)}, as {@link BlockKernel#quantize}. In batches, one step at a time:
     * per group the chain range → reduction → scale → division → store is ~70 cycles of
     * latency, so doing one group after another left the core waiting (measured 0.55 ns per
     * element); steps over a batch have no dependencies between groups and overlap.
     */
    static void quantize(int[] shape, float[] w, int len, int g0, int g1, GroupScale grid,
                         byte[] q, float[] scales, byte[] zps) {
        // The plain kernel takes symmetric scales from the max |w| only where its tree fits; mirror that choice.
        boolean symmetricMax = grid.symmetric() && BlockKernel.treeFits(len);
        boolean withZeroPoint = !grid.zeroPointAlwaysZero();
        float lo = BlockKernel.RINT_MAGIC + grid.lo();
        float hi = BlockKernel.RINT_MAGIC + grid.hi();
        float[] mxs = new float[BATCH];
        float[] mns = new float[BATCH];
        int[] zs = new int[BATCH];
        for (int b0 = g0; b0 < g1; b0 += BATCH) {
            int count = Math.min(BATCH, g1 - b0);
            for (int k = 0; k < count; k++) {
                int off = (b0 + k) * len;
                if (symmetricMax) {
                    mxs[k] = maxAbs(w, off, len);
                } else {
                    mxs[k] = max(w, off, len);
                    mns[k] = min(w, off, len);
                }
            }
            for (int k = 0; k < count; k++) {
                int g = b0 + k;
                int off = g * len;
                float mx;
                float mn;
                if (symmetricMax) {
                    mx = mxs[k];
                    mn = -mx;
                    WeightQuantizer.checkFinite(grid.name(), shape, w, off, len, mx, mn);
                    scales[g] = grid.symmetricScale(mx, g);
                } else {
                    mx = Math.max(0f, mxs[k]);
                    mn = Math.min(0f, mns[k]);
                    WeightQuantizer.checkFinite(grid.name(), shape, w, off, len, mx, mn);
                    scales[g] = grid.scale(mx, mn, g);
                }
                if (withZeroPoint) {
                    int zp = grid.zeroPoint(mx, mn);
                    zs[k] = zp;
                    if (zps != null) {
                        zps[g] = (byte) zp;
                    }
                }
            }
            for (int k = 0; k < count; k++) {
                int g = b0 + k;
                if (withZeroPoint) {
                    roundShift(w, g * len, len, scales[g], zs[k], lo, hi, q);
                } else {
                    round(w, g * len, len, scales[g], lo, hi, q);
                }
            }
        }
    }

    /*
     * Ranges on the float bits as ints: a float MAX/MIN must honour Java's NaN and ±0 rules,
     * an int one need not (measured 0.22 → 0.18 ms for 1536×384 block-32 symmetric).
     * For |w| (sign bit cleared) int order is float order, NaN above +inf. For signed w,
     * key(b) = b ^ ((b >> 31) & 0x7fffffff) is monotonic in float order with −0 < +0, as
     * Math.max/min treat them, and maps back by the same formula; a NaN comes back as a NaN
     * (above +inf, or below −inf for a negative NaN, which then shows in the min), so
     * checkFinite still sees every non-finite group.
     */

    private static float maxAbs(float[] w, int off, int len) {
        IntVector m = FloatVector.fromArray(S, w, off).reinterpretAsInts().and(0x7fff_ffff);
        for (int i = L; i < len; i += L) {
            m = m.max(FloatVector.fromArray(S, w, off + i).reinterpretAsInts().and(0x7fff_ffff));
        }
        return Float.intBitsToFloat(m.reduceLanes(VectorOperators.MAX));
    }

    private static IntVector key(float[] w, int at) {
        IntVector b = FloatVector.fromArray(S, w, at).reinterpretAsInts();
        return b.lanewise(VectorOperators.XOR, b.lanewise(VectorOperators.ASHR, 31).and(0x7fff_ffff));
    }

    private static float unkey(int k) {
        return Float.intBitsToFloat(k ^ ((k >> 31) & 0x7fff_ffff));
    }

    private static float max(float[] w, int off, int len) {
        IntVector m = key(w, off);
        for (int i = L; i < len; i += L) {
            m = m.max(key(w, off + i));
        }
        return unkey(m.reduceLanes(VectorOperators.MAX));
    }

    private static float min(float[] w, int off, int len) {
        IntVector m = key(w, off);
        for (int i = L; i < len; i += L) {
            m = m.min(key(w, off + i));
        }
        return unkey(m.reduceLanes(VectorOperators.MIN));
    }

    private static void round(float[] w, int off, int len, float scale, float lo, float hi, byte[] q) {
        FloatVector s = FloatVector.broadcast(S, scale);
        for (int i = 0; i < len; i += L) {
            FloatVector t = FloatVector.fromArray(S, w, off + i).div(s).add(BlockKernel.RINT_MAGIC).max(lo).min(hi);
            narrow(t, q, off + i);
        }
    }

    private static void roundShift(float[] w, int off, int len, float scale, int zp, float lo, float hi, byte[] q) {
        FloatVector s = FloatVector.broadcast(S, scale);
        float z = zp;
        for (int i = 0; i < len; i += L) {
            FloatVector t = FloatVector.fromArray(S, w, off + i).div(s).add(BlockKernel.RINT_MAGIC).add(z).max(lo).min(hi);
            narrow(t, q, off + i);
        }
    }

    /** {@code M + q} has q in the low byte of its bits; I2B keeps the low byte, like {@code (byte)}. */
    private static void narrow(FloatVector t, byte[] q, int at) {
        IntVector bits = t.reinterpretAsInts();
        ((ByteVector) bits.convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at);
    }
}
