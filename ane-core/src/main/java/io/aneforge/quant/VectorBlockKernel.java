package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * {@link BlockKernel} on the incubator Vector API, bit-identical to it (and so to the
 * reference): reached only when {@link io.aneforge.vector.VectorPath#enabled()} (this class
 * names incubator types). Batches of groups, straight from the weights, no scratch rows:
 * <ol>
 *   <li>range: lane-wise max of {@code |w|} (symmetric) or max and min of {@code w} (affine,
 *       one pass), then one cross-lane reduction per group, on the float bits as ints (see
 *       {@code range}); the same values as {@code Math.max/min}, and NaN and ±inf still reach
 *       {@link WeightQuantizer#checkFinite};</li>
 *   <li>scale and zero point: block-wise symmetric scales rounded to FP16 a batch at a time
 *       ({@code symmetricScales}), affine scales and zero points in double lanes a batch at a
 *       time ({@code affineScales}), the rest with the same {@link GroupScale} calls as
 *       {@link BlockKernel};</li>
 *   <li>{@code t = w / s + M}, M = 1.5·2^23, exactly the plain kernel's float operations (a
 *       true division, so the same roundings); then {@code + zp} and the clamp on t's bits as
 *       ints, and the low byte narrowed int → byte in registers: the step C2 leaves scalar in
 *       the plain kernel.</li>
 * </ol>
 * Only for group lengths that are whole vectors; others take the plain kernel.
 *
 * <p>No vector crosses a method boundary: every method takes and returns arrays and scalars.
 * C2 keeps a vector in registers only while everything that touches it is inlined into one
 * compilation; once the caller grows past its inlining budget (NodeCountInliningCutoff, seen
 * when this kernel is reached through WeightQuantizer and Parallel) a helper taking a vector
 * argument is called out of line, the vector is boxed on the heap per call, and the kernel
 * ran 5× slower. Methods of arrays and scalars still compile well on their own.
 */
final class VectorBlockKernel {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Bytes with as many lanes as S has floats (128-bit for 16 lanes); a constant species C2 can see through. */
    private static final VectorSpecies<Byte> B = L == 16 ? ByteVector.SPECIES_128 : L == 8 ? ByteVector.SPECIES_64
            : VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    /** Double lanes for the affine scales, and floats with as many lanes (half the width). */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int DL = D.length();
    private static final VectorSpecies<Float> FD = VectorSpecies.of(float.class, VectorShape.forBitSize(DL * 32));
    /** 1.5·2^52: {@code (z + M) − M} is {@code Math.rint(z)} for |z| < 2^51. */
    private static final double RINT_MAGIC_D = 0x1.8p52;

    private VectorBlockKernel() {
    }

    /** Group lengths this kernel takes: whole vectors. */
    static boolean fits(int len) {
        return len >= L && len % L == 0;
    }

    /** Groups per batch: ranges, then scales, then quantization, each a loop over the batch. */
    private static final int BATCH = 64;
    /** The bits of {@link BlockKernel#RINT_MAGIC}: {@code M + q} has the bits {@code MAGIC_BITS + q}. */
    private static final int MAGIC_BITS = Float.floatToRawIntBits(BlockKernel.RINT_MAGIC);

    /**
     * Groups {@code [g0, g1)}, as {@link BlockKernel#quantize}. In batches, one step at a time,
     * each step its own method with one loop over the batch: per group the chain range →
     * reduction → scale → division → store is ~70 cycles of latency, so doing one group after
     * another left the core waiting (measured again on Zen 3: a fused one-pass-per-group kernel
     * was 1.7× slower); steps over a batch have no dependencies between groups and overlap.
     */
    static void quantize(int[] shape, float[] w, int len, int g0, int g1, GroupScale grid,
                         byte[] q, float[] scales, byte[] zps) {
        // The plain kernel takes symmetric scales from the max |w| only where its tree fits; mirror that choice.
        boolean symmetricMax = grid.symmetric() && BlockKernel.treeFits(len);
        boolean withZeroPoint = !grid.zeroPointAlwaysZero();
        int lo = MAGIC_BITS + grid.lo();
        int hi = MAGIC_BITS + grid.hi();
        float[] mxs = new float[BATCH];
        float[] mns = new float[BATCH];
        int[] zs = new int[BATCH];
        double[] zd = new double[BATCH];
        for (int b0 = g0; b0 < g1; b0 += BATCH) {
            int count = Math.min(BATCH, g1 - b0);
            if (symmetricMax) {
                maxAbs(w, b0, count, len, mxs);
                symmetricScales(shape, w, len, b0, count, grid, mxs, scales, zs, zps, lo, hi, q);
                continue;
            } else {
                range(w, b0, count, len, mxs, mns);
                if (grid.symmetric()) {
                    for (int k = 0; k < count; k++) {
                        int g = b0 + k;
                        float mx = mxs[k];
                        float mn = mns[k];
                        WeightQuantizer.checkFinite(grid.name(), shape, w, g * len, len, mx, mn);
                        scales[g] = grid.scale(mx, mn, g);
                        if (withZeroPoint) {
                            int zp = grid.zeroPoint(mx, mn);
                            zs[k] = zp;
                            if (zps != null) {
                                zps[g] = (byte) zp;
                            }
                        }
                    }
                } else {
                    affineScales(shape, w, len, b0, count, grid, mxs, mns, zd, scales, zs, zps, lo, hi, q);
                    continue;
                }
            }
            if (withZeroPoint) {
                roundShift(w, b0, count, len, scales, zs, lo, hi, q);
            } else {
                round(w, b0, count, len, scales, lo, hi, q);
            }
        }
    }

    /**
     * {@link GroupScale#symmetricScale} for the groups of a batch: the quotients {@code maxAbs / qmax}
     * (the same float division), rounded to FP16 for the whole batch at once ({@link Fp16#roundInPlace},
     * in vector lanes), then the rare cases, found with a lane mask as in {@code affineScales}: a zero or
     * non-finite max, or a scale beyond FP16, take the scalar call (which returns 1 for an all-zero group
     * and throws the plain kernel's errors), and a scale that rounded to 0 becomes the smallest FP16
     * subnormal. Then the batch's rounding, called from here for the reason given at {@code affineScales}.
     */
    private static void symmetricScales(int[] shape, float[] w, int len, int b0, int count, GroupScale grid,
                                        float[] mxs, float[] scales, int[] zs, byte[] zps, int loBits, int hiBits,
                                        byte[] q) {
        float qmax = grid.qmax();
        for (int k = 0; k < count; k++) {
            scales[b0 + k] = mxs[k] / qmax;
        }
        Fp16.roundInPlace(scales, b0, b0 + count);
        int vectorEnd = count - count % L;
        for (int k = 0; k < vectorEnd; k += L) {
            FloatVector mx = FloatVector.fromArray(S, mxs, k);
            FloatVector sc = FloatVector.fromArray(S, scales, b0 + k);
            // Ordinary groups: a finite, non-zero max and a scale in (0, FP16 max].
            VectorMask<Float> ordinary = mx.compare(VectorOperators.LE, Float.MAX_VALUE)
                    .and(mx.compare(VectorOperators.GT, 0f))
                    .and(sc.compare(VectorOperators.LE, Fp16.MAX_VALUE))
                    .and(sc.compare(VectorOperators.GT, 0f));
            if (!ordinary.allTrue()) {
                for (int j = k; j < k + L; j++) {
                    rareSymmetricGroup(shape, w, len, b0 + j, grid, mxs[j], scales);
                }
            }
        }
        for (int k = vectorEnd; k < count; k++) {
            rareSymmetricGroup(shape, w, len, b0 + k, grid, mxs[k], scales);
        }
        if (grid.zeroPointAlwaysZero()) {
            round(w, b0, count, len, scales, loBits, hiBits, q);
        } else {
            // Unsigned symmetric: the fixed mid point (uint8: 128) for every group.
            int zp = grid.zeroPoint(1f, -1f);
            Arrays.fill(zs, 0, count, zp);
            if (zps != null) {
                Arrays.fill(zps, b0, b0 + count, (byte) zp);
            }
            roundShift(w, b0, count, len, scales, zs, loBits, hiBits, q);
        }
    }

    /**
     * {@link GroupScale#scale} and {@link GroupScale#zeroPoint} of an affine spec for the groups of a
     * batch, in double lanes: the same double operations in the same order ({@code (mx − mn) / (hi − lo)},
     * {@code (lo·mx − hi·mn) / range}, rint, clamp), so the same values; the scales rounded to float, then to
     * FP16 for the batch at once ({@link Fp16#roundInPlace}). {@code rint} is {@code (z + 1.5·2^52) − 1.5·2^52}
     * (round half to even, exact for |z| < 2^51; here z lies within [lo, hi] up to rounding); to int through
     * a double array and a scalar cast ({@code convertShape(D2I)} measured slower, JDK 17). The rare cases
     * take the scalar calls (which throw the plain kernel's errors): a non-finite range, a zero range (scale
     * 1), a scale beyond FP16, and the groups past the last whole set of lanes; a scale that rounded to 0
     * becomes the smallest FP16 subnormal. A lane mask finds them: sets of lanes with none skip the scalar pass.
     *
     * <p>Then the batch's rounding ({@code roundShift}) is called from here, not from {@code quantize}.
     * C2 does not inline this method into {@code quantize} (larger than FreqInlineSize, 325 bytecodes;
     * {@code symmetricScales}: "already compiled into a big method"), so the division loop is compiled
     * inside it. Called from {@code quantize}, C2 inlined the rounding there in some JVM runs and not in
     * others, and inlined it ran about twice as slow (JDK 17, Zen 4, 1536×384: symmetric 0.39 instead of
     * 0.20 ms per tensor; affine 0.1–0.3 ms more), for reasons not visible without a disassembler.
     */
    private static void affineScales(int[] shape, float[] w, int len, int b0, int count, GroupScale grid,
                                     float[] mxs, float[] mns, double[] zd, float[] scales, int[] zs, byte[] zps,
                                     int loBits, int hiBits, byte[] q) {
        double lo = grid.lo();
        double hi = grid.hi();
        double steps = grid.hi() - grid.lo();
        int vectorEnd = count - count % DL;
        for (int k = 0; k < vectorEnd; k += DL) {
            DoubleVector mx = (DoubleVector) FloatVector.fromArray(FD, mxs, k).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector mn = (DoubleVector) FloatVector.fromArray(FD, mns, k).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector range = mx.sub(mn);
            ((FloatVector) range.div(steps).convertShape(VectorOperators.D2F, FD, 0)).intoArray(scales, b0 + k);
            DoubleVector z = mx.mul(lo).sub(mn.mul(hi)).div(range).add(RINT_MAGIC_D).sub(RINT_MAGIC_D).min(hi).max(lo);
            z.intoArray(zd, k);
        }
        for (int k = 0; k < vectorEnd; k++) {
            zs[k] = (int) zd[k];
        }
        Fp16.roundInPlace(scales, b0, b0 + vectorEnd);
        for (int k = 0; k < vectorEnd; k += DL) {
            FloatVector mx = FloatVector.fromArray(FD, mxs, k);
            FloatVector mn = FloatVector.fromArray(FD, mns, k);
            FloatVector sc = FloatVector.fromArray(FD, scales, b0 + k);
            // Ordinary groups: a finite, non-zero range and a scale in (0, FP16 max].
            VectorMask<Float> ordinary = mx.compare(VectorOperators.LE, Float.MAX_VALUE)
                    .and(mn.compare(VectorOperators.GE, -Float.MAX_VALUE))
                    .and(mx.compare(VectorOperators.GT, 0f).or(mn.compare(VectorOperators.LT, 0f)))
                    .and(sc.compare(VectorOperators.LE, Fp16.MAX_VALUE))
                    .and(sc.compare(VectorOperators.GT, 0f));
            if (!ordinary.allTrue()) {
                for (int j = k; j < k + DL; j++) {
                    rareAffineGroup(shape, w, len, b0 + j, grid, mxs[j], mns[j], scales, zs, j, false);
                }
            }
        }
        for (int k = vectorEnd; k < count; k++) {
            rareAffineGroup(shape, w, len, b0 + k, grid, mxs[k], mns[k], scales, zs, k, true);
        }
        if (zps != null) {
            for (int k = 0; k < count; k++) {
                zps[b0 + k] = (byte) zs[k];
            }
        }
        roundShift(w, b0, count, len, scales, zs, loBits, hiBits, q);
    }

    /** The scalar side of {@code symmetricScales} for group g, as in {@code rareAffineGroup}. */
    private static void rareSymmetricGroup(int[] shape, float[] w, int len, int g, GroupScale grid, float mx,
                                           float[] scales) {
        if (mx == 0f || !(mx <= Float.MAX_VALUE) || scales[g] > Fp16.MAX_VALUE) {
            WeightQuantizer.checkFinite(grid.name(), shape, w, g * len, len, mx, -mx);
            scales[g] = grid.symmetricScale(mx, g);
        } else if (scales[g] == 0f) {
            scales[g] = GroupScale.MIN_FP16_SCALE;
        }
    }

    /**
     * The scalar side of {@code affineScales} for group g (batch index k): the {@link GroupScale} calls for a
     * group outside the double lanes ({@code always}) or with a non-finite or zero range or a scale beyond
     * FP16; the smallest FP16 subnormal for a scale that rounded to 0; nothing for an ordinary group.
     */
    private static void rareAffineGroup(int[] shape, float[] w, int len, int g, GroupScale grid, float mx, float mn,
                                        float[] scales, int[] zs, int k, boolean always) {
        if (always || !(mx <= Float.MAX_VALUE) || !(mn >= -Float.MAX_VALUE) || mx - mn == 0f
                || scales[g] > Fp16.MAX_VALUE) {
            WeightQuantizer.checkFinite(grid.name(), shape, w, g * len, len, mx, mn);
            scales[g] = grid.scale(mx, mn, g);
            zs[k] = grid.zeroPoint(mx, mn);
        } else if (scales[g] == 0f) {
            scales[g] = GroupScale.MIN_FP16_SCALE;
        }
    }

    /**
     * Groups of two or four vectors (block 32 with 16 or 8 lanes: the default precisions on AVX-512 and
     * AVX2) take a straight-line form of each pass below: for a loop of two or four iterations C2 still
     * builds a pre-, main- and post-loop per group, about a tenth of the kernel's time (eighth round,
     * docs/converter.md). The second pair of vectors sits behind a test that does not change within a
     * pass, so one body serves both lengths.
     */
    private static boolean straightLine(int len) {
        return len == 2 * L || len == 4 * L;
    }

    /** max |w| of each group of the batch. */
    private static void maxAbs(float[] w, int b0, int count, int len, float[] out) {
        if (straightLine(len)) {
            boolean four = len == 4 * L;
            for (int k = 0; k < count; k++) {
                int at = (b0 + k) * len;
                IntVector m = FloatVector.fromArray(S, w, at).reinterpretAsInts().and(0x7fff_ffff)
                        .max(FloatVector.fromArray(S, w, at + L).reinterpretAsInts().and(0x7fff_ffff));
                if (four) {
                    m = m.max(FloatVector.fromArray(S, w, at + 2 * L).reinterpretAsInts().and(0x7fff_ffff))
                            .max(FloatVector.fromArray(S, w, at + 3 * L).reinterpretAsInts().and(0x7fff_ffff));
                }
                out[k] = Float.intBitsToFloat(m.reduceLanes(VectorOperators.MAX));
            }
            return;
        }
        for (int k = 0; k < count; k++) {
            int at = (b0 + k) * len;
            IntVector m = FloatVector.fromArray(S, w, at).reinterpretAsInts().and(0x7fff_ffff);
            for (int i = L; i < len; i += L) {
                m = m.max(FloatVector.fromArray(S, w, at + i).reinterpretAsInts().and(0x7fff_ffff));
            }
            out[k] = Float.intBitsToFloat(m.reduceLanes(VectorOperators.MAX));
        }
    }

    /*
     * With 16 lanes the affine range's two reductions (max of the bits, max of the sign-flipped bits)
     * share one: lanes 0-7 fold the first vector, lanes 8-15 the second (a blend each way and a swap of
     * halves), then three swap-and-max steps leave the two results in lanes 0 and 8. A max is exact in
     * any order, so these are the values of two reduceLanes; 2-4 % less time per affine tensor on an
     * AVX-512 Xeon with FP16 (eighth round). Used only when the preferred int vector has 16 lanes.
     */
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_PREFERRED;
    private static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(I16, 0xff00L);
    private static final VectorShuffle<Integer> SWAP8 = VectorShuffle.fromOp(I16, i -> i ^ 8);
    private static final VectorShuffle<Integer> SWAP4 = VectorShuffle.fromOp(I16, i -> i ^ 4);
    private static final VectorShuffle<Integer> SWAP2 = VectorShuffle.fromOp(I16, i -> i ^ 2);
    private static final VectorShuffle<Integer> SWAP1 = VectorShuffle.fromOp(I16, i -> i ^ 1);

    /**
     * {@code max(0, max w)} and {@code min(0, min w)} of each group of the batch (the plain kernel's range,
     * which includes 0), in one pass over the weights, on the float bits as ints. The max: the largest bits
     * as signed ints, floored at 0, since every negative w (and −0) has negative bits and the positive ones
     * order as their values (+NaN above +inf). The min: with the sign bit flipped the most negative w has the
     * largest bits (−NaN above −inf); when there is none the flipped max is negative and the result is +0,
     * as {@code Math.min(0f, positives)} is; a −0 with no negative value gives −0, as {@code Math.min(0f, −0f)}
     * does. NaN and ±inf reach the finiteness check either way.
     */
    private static void range(float[] w, int b0, int count, int len, float[] mxs, float[] mns) {
        if (straightLine(len)) {
            boolean four = len == 4 * L;
            for (int k = 0; k < count; k++) {
                int at = (b0 + k) * len;
                IntVector b = FloatVector.fromArray(S, w, at).reinterpretAsInts();
                IntVector c = FloatVector.fromArray(S, w, at + L).reinterpretAsInts();
                IntVector hv = b.max(c);
                IntVector nv = b.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).max(c.lanewise(VectorOperators.XOR, Integer.MIN_VALUE));
                if (four) {
                    IntVector d = FloatVector.fromArray(S, w, at + 2 * L).reinterpretAsInts();
                    IntVector e = FloatVector.fromArray(S, w, at + 3 * L).reinterpretAsInts();
                    hv = hv.max(d.max(e));
                    nv = nv.max(d.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).max(e.lanewise(VectorOperators.XOR, Integer.MIN_VALUE)));
                }
                int h;
                int n;
                if (L == 16) {
                    IntVector x = hv.blend(nv, UPPER_HALF).max(nv.blend(hv, UPPER_HALF).rearrange(SWAP8));
                    x = x.max(x.rearrange(SWAP4));
                    x = x.max(x.rearrange(SWAP2));
                    x = x.max(x.rearrange(SWAP1));
                    h = x.lane(0);
                    n = x.lane(8);
                } else {
                    h = hv.reduceLanes(VectorOperators.MAX);
                    n = nv.reduceLanes(VectorOperators.MAX);
                }
                mxs[k] = Float.intBitsToFloat(Math.max(h, 0));
                mns[k] = Float.intBitsToFloat(n < 0 ? 0 : n ^ Integer.MIN_VALUE);
            }
            return;
        }
        for (int k = 0; k < count; k++) {
            int at = (b0 + k) * len;
            IntVector b = FloatVector.fromArray(S, w, at).reinterpretAsInts();
            IntVector hi = b;
            IntVector neg = b.lanewise(VectorOperators.XOR, Integer.MIN_VALUE);
            for (int i = L; i < len; i += L) {
                b = FloatVector.fromArray(S, w, at + i).reinterpretAsInts();
                hi = hi.max(b);
                neg = neg.max(b.lanewise(VectorOperators.XOR, Integer.MIN_VALUE));
            }
            int h = hi.reduceLanes(VectorOperators.MAX);
            int n = neg.reduceLanes(VectorOperators.MAX);
            mxs[k] = Float.intBitsToFloat(Math.max(h, 0));
            mns[k] = Float.intBitsToFloat(n < 0 ? 0 : n ^ Integer.MIN_VALUE);
        }
    }

    /*
     * Rounding: t = w / s + M in float, exactly the plain kernel's operations (a true division:
     * w · (1/s) can differ in the last bit next to halfway points; a reciprocal plus a check
     * for them measured slower than the division on Zen 3). From there on, integers: t is
     * M + rint(w / s) with |rint(w / s)| < 2^22, and the bits of such floats are
     * MAGIC_BITS + rint(w / s), so adding the zero point and clamping on the bits give the
     * plain kernel's float results bit for bit, in one instruction each (Java's float max/min
     * need several, for NaN and −0, which cannot occur here: non-finite groups were rejected).
     */

    private static void round(float[] w, int b0, int count, int len, float[] scales, int lo, int hi, byte[] q) {
        if (straightLine(len)) {
            boolean four = len == 4 * L;
            for (int k = 0; k < count; k++) {
                int at = (b0 + k) * len;
                FloatVector s = FloatVector.broadcast(S, scales[b0 + k]);
                IntVector t = FloatVector.fromArray(S, w, at).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                IntVector u = FloatVector.fromArray(S, w, at + L).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                ((ByteVector) t.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at);
                ((ByteVector) u.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + L);
                if (four) {
                    t = FloatVector.fromArray(S, w, at + 2 * L).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    u = FloatVector.fromArray(S, w, at + 3 * L).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    ((ByteVector) t.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 2 * L);
                    ((ByteVector) u.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 3 * L);
                }
            }
            return;
        }
        for (int k = 0; k < count; k++) {
            int at = (b0 + k) * len;
            FloatVector s = FloatVector.broadcast(S, scales[b0 + k]);
            for (int i = 0; i < len; i += L) {
                IntVector t = FloatVector.fromArray(S, w, at + i).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                // The low byte of M + q is q; I2B keeps the low byte, like (byte).
                ((ByteVector) t.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + i);
            }
        }
    }

    private static void roundShift(float[] w, int b0, int count, int len, float[] scales, int[] zs, int lo, int hi,
                                   byte[] q) {
        if (straightLine(len)) {
            boolean four = len == 4 * L;
            for (int k = 0; k < count; k++) {
                int at = (b0 + k) * len;
                FloatVector s = FloatVector.broadcast(S, scales[b0 + k]);
                int zp = zs[k];
                IntVector t = FloatVector.fromArray(S, w, at).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                IntVector u = FloatVector.fromArray(S, w, at + L).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                ((ByteVector) t.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at);
                ((ByteVector) u.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + L);
                if (four) {
                    t = FloatVector.fromArray(S, w, at + 2 * L).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    u = FloatVector.fromArray(S, w, at + 3 * L).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    ((ByteVector) t.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 2 * L);
                    ((ByteVector) u.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 3 * L);
                }
            }
            return;
        }
        for (int k = 0; k < count; k++) {
            int at = (b0 + k) * len;
            FloatVector s = FloatVector.broadcast(S, scales[b0 + k]);
            int zp = zs[k];
            for (int i = 0; i < len; i += L) {
                IntVector t = FloatVector.fromArray(S, w, at + i).div(s).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                ((ByteVector) t.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + i);
            }
        }
    }
}
