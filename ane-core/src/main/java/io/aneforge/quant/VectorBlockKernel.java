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
 *       one pass), then one cross-lane reduction per group (per two groups for the affine range
 *       with 16 lanes), on the float bits as ints (see {@code range}); the same values as
 *       {@code Math.max/min}, and NaN and ±inf still reach {@link WeightQuantizer#checkFinite};</li>
 *   <li>scale and zero point: block-wise symmetric scales a batch at a time ({@code symmetricScales}),
 *       affine scales and zero points in double lanes a batch at a time ({@code affineScales}), both
 *       rounded to FP16 in float lanes ({@code roundScalesToFp16}), the rest with the same
 *       {@link GroupScale} calls as {@link BlockKernel};</li>
 *   <li>{@code t = w / s + M}, M = 1.5·2^23: the correctly rounded quotient, as the plain kernel's
 *       division gives it, from a reciprocal and two FMAs (see {@code round}); then {@code + zp}
 *       and the clamp on t's bits as ints, and the low byte narrowed int → byte in registers: the
 *       step C2 leaves scalar in the plain kernel.</li>
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
        // 1 / s and −s per group of the batch, filled by the rounding passes
        float[] reciprocals = new float[BATCH];
        float[] negatedScales = new float[BATCH];
        for (int b0 = g0; b0 < g1; b0 += BATCH) {
            int count = Math.min(BATCH, g1 - b0);
            if (symmetricMax) {
                maxAbs(w, b0, count, len, mxs);
                symmetricScales(shape, w, len, b0, count, grid, mxs, scales, reciprocals, negatedScales, zs, zps, lo, hi, q);
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
                    affineScales(shape, w, len, b0, count, grid, mxs, mns, zd, scales, reciprocals, negatedScales, zs, zps, lo,
                            hi, q);
                    continue;
                }
            }
            if (withZeroPoint) {
                roundShift(w, b0, count, len, scales, reciprocals, negatedScales, zs, lo, hi, q);
            } else {
                round(w, b0, count, len, scales, reciprocals, negatedScales, lo, hi, q);
            }
        }
    }

    /**
     * {@link GroupScale#symmetricScale} for the groups of a batch: the quotients {@code maxAbs / qmax}
     * (the same float division), rounded to FP16 for the whole batch at once ({@code roundScalesToFp16}),
     * then, in a batch that has them, the rare cases: a zero or non-finite max, or a scale beyond FP16, take
     * the scalar call (which returns 1 for an all-zero group and throws the plain kernel's errors), and a
     * scale that rounded to 0 becomes the smallest FP16 subnormal. Then the batch's rounding, called from
     * here for the reason given at {@code affineScales}.
     */
    private static void symmetricScales(int[] shape, float[] w, int len, int b0, int count, GroupScale grid,
                                        float[] mxs, float[] scales, float[] reciprocals, float[] negatedScales,
                                        int[] zs, byte[] zps, int loBits, int hiBits, byte[] q) {
        float qmax = grid.qmax();
        for (int k = 0; k < count; k++) {
            scales[b0 + k] = mxs[k] / qmax;
        }
        if (!roundScalesToFp16(scales, b0, b0 + count)) {
            for (int k = 0; k < count; k++) {
                rareSymmetricGroup(shape, w, len, b0 + k, grid, mxs[k], scales);
            }
        }
        if (grid.zeroPointAlwaysZero()) {
            round(w, b0, count, len, scales, reciprocals, negatedScales, loBits, hiBits, q);
        } else {
            // Unsigned symmetric: the fixed mid point (uint8: 128) for every group.
            int zp = grid.zeroPoint(1f, -1f);
            Arrays.fill(zs, 0, count, zp);
            if (zps != null) {
                Arrays.fill(zps, b0, b0 + count, (byte) zp);
            }
            roundShift(w, b0, count, len, scales, reciprocals, negatedScales, zs, loBits, hiBits, q);
        }
    }

    /**
     * {@link GroupScale#scale} and {@link GroupScale#zeroPoint} of an affine spec for the groups of a
     * batch, in double lanes: the same double operations in the same order ({@code (mx − mn) / (hi − lo)},
     * {@code (lo·mx − hi·mn) / range}, clamp, rint), so the same values; the scales rounded to float, then to
     * FP16 for the batch at once ({@code roundScalesToFp16}). The clamp comes before {@code rint}, which is the
     * same since lo and hi are integers, and {@code rint} is the add of 1.5·2^52 (round half to even, exact for
     * |z| < 2^51), whose bits then hold the integer z in their low 32 bits: to int through a double array and
     * a scalar move of those bits (a scalar cast, which checks for overflow, and {@code convertShape(D2I)}
     * measured slower, JDK 17). The rare cases take the scalar calls (which throw the plain kernel's errors): a
     * non-finite range, a zero range (scale 1), a scale beyond FP16, and the groups past the last whole set of
     * lanes; a scale that rounded to 0 becomes the smallest FP16 subnormal. Each of them leaves a rounded
     * scale outside (0, FP16 max], so a batch without one skips the scalar pass.
     *
     * <p>Then the batch's rounding ({@code roundShift}) is called from here, not from {@code quantize}.
     * C2 does not inline this method into {@code quantize} (larger than FreqInlineSize, 325 bytecodes;
     * {@code symmetricScales}: "already compiled into a big method"), so the division loop is compiled
     * inside it. Called from {@code quantize}, C2 inlined the rounding there in some JVM runs and not in
     * others, and inlined it ran about twice as slow (JDK 17, Zen 4, 1536×384: symmetric 0.39 instead of
     * 0.20 ms per tensor; affine 0.1–0.3 ms more), for reasons not visible without a disassembler.
     */
    private static void affineScales(int[] shape, float[] w, int len, int b0, int count, GroupScale grid,
                                     float[] mxs, float[] mns, double[] zd, float[] scales, float[] reciprocals,
                                     float[] negatedScales, int[] zs, byte[] zps, int loBits, int hiBits, byte[] q) {
        double lo = grid.lo();
        double hi = grid.hi();
        double steps = grid.hi() - grid.lo();
        int vectorEnd = count - count % DL;
        for (int k = 0; k < vectorEnd; k += DL) {
            DoubleVector mx = (DoubleVector) FloatVector.fromArray(FD, mxs, k).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector mn = (DoubleVector) FloatVector.fromArray(FD, mns, k).convertShape(VectorOperators.F2D, D, 0);
            DoubleVector range = mx.sub(mn);
            ((FloatVector) range.div(steps).convertShape(VectorOperators.D2F, FD, 0)).intoArray(scales, b0 + k);
            mx.mul(lo).sub(mn.mul(hi)).div(range).min(hi).max(lo).add(RINT_MAGIC_D).intoArray(zd, k);
        }
        for (int k = 0; k < vectorEnd; k++) {
            zs[k] = (int) Double.doubleToRawLongBits(zd[k]);
        }
        if (!roundScalesToFp16(scales, b0, b0 + vectorEnd)) {
            for (int k = 0; k < vectorEnd; k++) {
                rareAffineGroup(shape, w, len, b0 + k, grid, mxs[k], mns[k], scales, zs, k, false);
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
        roundShift(w, b0, count, len, scales, reciprocals, negatedScales, zs, loBits, hiBits, q);
    }

    /**
     * Rounds the quotients {@code scales[from, to)} (each ≥ 0 or NaN) to FP16 in place and tells whether every
     * result lies in (0, FP16 max], that is whether none of these groups is a rare one. In float lanes, without
     * masks: {@code (x + m) − m} with {@code m = 2^(e + 13)}, e the exponent of x clamped to [−14, 15], rounds x
     * half to even to a multiple of {@code 2^(e − 10)}: a normal half's 11 significant bits, and below 2^−14 a
     * multiple of 2^−24, the subnormal halves; so {@link Fp16#round} for every x that rounds into (0, FP16
     * max]. Zero, NaN, infinity and larger values come out 0, NaN or above FP16 max, and then the answer is
     * false (the callers redo such groups with the scalar calls). The test is on the bits as ints:
     * {@code (b − 1) | (MAX_BITS − b)} is negative exactly when b is outside [1, MAX_BITS]; it is reduced per
     * vector, since a vector carried from one iteration to the next is what C2 (JDK 17) sometimes boxes.
     * Replaces {@link Fp16#roundInPlace} and a test with lane masks (JDK 17 turns each mask operation into
     * several instructions), which together cost as much as the range pass on a Cascade Lake Xeon.
     */
    private static boolean roundScalesToFp16(float[] scales, int from, int to) {
        int badBits = 0;
        int i = from;
        for (int end = from + (to - from) / L * L; i < end; i += L) {
            FloatVector x = FloatVector.fromArray(S, scales, i);
            FloatVector m = x.reinterpretAsInts().and(0x7f80_0000).max(MIN_MAGIC_EXPONENT).min(MAX_MAGIC_EXPONENT)
                    .add(13 << 23).reinterpretAsFloats();
            FloatVector r = x.add(m).sub(m);
            r.intoArray(scales, i);
            IntVector b = r.reinterpretAsInts();
            badBits |= b.sub(1).or(b.neg().add(FP16_MAX_BITS)).reduceLanes(VectorOperators.OR);
        }
        int badTail = 0;
        for (; i < to; i++) {
            float r = GroupScale.roundPositiveToFp16(scales[i]);
            scales[i] = r;
            int b = Float.floatToRawIntBits(r);
            badTail |= (b - 1) | (FP16_MAX_BITS - b);
        }
        return (badBits | badTail) >= 0;
    }

    /** The float bits of 2^−14 and 2^15: the exponents {@code roundScalesToFp16} clamps to, FP16's normal range. */
    private static final int MIN_MAGIC_EXPONENT = 0x3880_0000;
    private static final int MAX_MAGIC_EXPONENT = 0x4700_0000;
    /** The float bits of 65504, the largest FP16 value. */
    private static final int FP16_MAX_BITS = Float.floatToRawIntBits(Fp16.MAX_VALUE);

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
     * Since the seventeenth round two groups share one as well: each group is folded to 8 + 8 lanes as
     * above, the two results are folded into 4 lanes per value (a select each way and a swap of quarters),
     * and two swap-and-max steps leave the four values in lanes 0, 4, 8 and 12; the selects are AND/OR
     * with constant vectors, which C2 turns into one ternary-logic instruction each, where a blend under a
     * constant mask costs a compare into a mask register every time (JDK 17). The shuffles run on one port
     * of an Intel core, so fewer of them per group count: affine 1536×384 6 % less time per tensor than
     * one group at a time on a Cascade Lake Xeon (four groups at a time: 4 % more).
     */
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_PREFERRED;
    private static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(I16, 0xff00L);
    private static final VectorShuffle<Integer> SWAP8 = VectorShuffle.fromOp(I16, i -> i ^ 8);
    private static final VectorShuffle<Integer> SWAP4 = VectorShuffle.fromOp(I16, i -> i ^ 4);
    private static final VectorShuffle<Integer> SWAP2 = VectorShuffle.fromOp(I16, i -> i ^ 2);
    private static final VectorShuffle<Integer> SWAP1 = VectorShuffle.fromOp(I16, i -> i ^ 1);
    /** All ones in lanes 0–7, and in the lanes whose bit 2 is clear: the selects of {@code range} (16 lanes). */
    private static final int[] LOWER_HALF_BITS = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    private static final int[] EVEN_QUARTER_BITS = {-1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0};

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
            int k = 0;
            if (L == 16) {
                IntVector lower = IntVector.fromArray(I16, LOWER_HALF_BITS, 0);
                IntVector upper = lower.not();
                IntVector evenQuarters = IntVector.fromArray(I16, EVEN_QUARTER_BITS, 0);
                IntVector oddQuarters = evenQuarters.not();
                for (; k + 1 < count; k += 2) {
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
                    int at2 = at + len;
                    b = FloatVector.fromArray(S, w, at2).reinterpretAsInts();
                    c = FloatVector.fromArray(S, w, at2 + L).reinterpretAsInts();
                    IntVector hv2 = b.max(c);
                    IntVector nv2 = b.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).max(c.lanewise(VectorOperators.XOR, Integer.MIN_VALUE));
                    if (four) {
                        IntVector d = FloatVector.fromArray(S, w, at2 + 2 * L).reinterpretAsInts();
                        IntVector e = FloatVector.fromArray(S, w, at2 + 3 * L).reinterpretAsInts();
                        hv2 = hv2.max(d.max(e));
                        nv2 = nv2.max(d.lanewise(VectorOperators.XOR, Integer.MIN_VALUE).max(e.lanewise(VectorOperators.XOR, Integer.MIN_VALUE)));
                    }
                    IntVector x = hv.and(lower).or(nv.and(upper)).max(nv.and(lower).or(hv.and(upper)).rearrange(SWAP8));
                    IntVector x2 = hv2.and(lower).or(nv2.and(upper)).max(nv2.and(lower).or(hv2.and(upper)).rearrange(SWAP8));
                    IntVector y = x.and(evenQuarters).or(x2.and(oddQuarters))
                            .max(x2.and(evenQuarters).or(x.and(oddQuarters)).rearrange(SWAP4));
                    y = y.max(y.rearrange(SWAP2));
                    y = y.max(y.rearrange(SWAP1));
                    int h = y.lane(0);
                    int h2 = y.lane(4);
                    int n = y.lane(8);
                    int n2 = y.lane(12);
                    mxs[k] = Float.intBitsToFloat(Math.max(h, 0));
                    mns[k] = Float.intBitsToFloat(n < 0 ? 0 : n ^ Integer.MIN_VALUE);
                    mxs[k + 1] = Float.intBitsToFloat(Math.max(h2, 0));
                    mns[k + 1] = Float.intBitsToFloat(n2 < 0 ? 0 : n2 ^ Integer.MIN_VALUE);
                }
            }
            for (; k < count; k++) {
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
     * Rounding: t = w / s + M in float, the plain kernel's operations, with the quotient computed without
     * a division (Markstein's correction): q0 = w · r with r = 1/s, the remainder e = w − q0 · s by one FMA
     * and q = q0 + e · r by another. q is the correctly rounded w / s, the division's result, bit for bit:
     * r is correctly rounded, so q0 is within 1.5 ulps of w / s; s is an FP16 value (11 significant bits),
     * so e has at most 13 significant bits and the FMA computes it exactly; then q0 + e · r is w / s up to
     * |e / s| · |r · s − 1| < 1.5 · 2^−24 ulp, while w / s lies at least 2^−12 ulp from every midpoint
     * between floats (w − m · s is a non-zero multiple of ulp(m) / 2 times the last bit of s), so both
     * round to the same float. Where e underflows the quotient is below 2^−78 and t is M either way.
     * VectorBlockKernelTest checks quotients on and next to halfway points for every FP16 scale.
     * (w · (1/s) alone differs in the last bit next to halfway points. Earlier rounds measured this
     * correction no faster than vdivps on Zen 3 and Zen 4; on a Cascade Lake Xeon, where a 512-bit vdivps
     * takes ~10 cycles, 1536×384 block 32 takes about 18 % (symmetric) and 11 % (affine) less time per
     * tensor with it, seventeenth round.)
     * From there on, integers: t is M + rint(w / s) with |rint(w / s)| < 2^22, and the bits of such
     * floats are MAGIC_BITS + rint(w / s), so adding the zero point and clamping on the bits give the
     * plain kernel's float results bit for bit, in one instruction each (Java's float max/min
     * need several, for NaN and −0, which cannot occur here: non-finite groups were rejected).
     */

    /**
     * {@code 1 / s} and {@code −s} of the batch's scales (a vector division per L groups), which the rounding
     * passes broadcast from memory: a broadcast from a register, and a scalar division per group, would compete
     * with the passes' vector arithmetic for the same ports.
     */
    private static void reciprocals(float[] scales, int b0, int count, float[] reciprocals, float[] negatedScales) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        int k = 0;
        for (int end = count - count % L; k < end; k += L) {
            FloatVector s = FloatVector.fromArray(S, scales, b0 + k);
            one.div(s).intoArray(reciprocals, k);
            s.neg().intoArray(negatedScales, k);
        }
        for (; k < count; k++) {
            reciprocals[k] = 1f / scales[b0 + k];
            negatedScales[k] = -scales[b0 + k];
        }
    }

    private static void round(float[] w, int b0, int count, int len, float[] scales, float[] reciprocals,
                              float[] negatedScales, int lo, int hi, byte[] q) {
        reciprocals(scales, b0, count, reciprocals, negatedScales);
        if (straightLine(len)) {
            boolean four = len == 4 * L;
            for (int k = 0; k < count; k++) {
                int at = (b0 + k) * len;
                FloatVector r = FloatVector.broadcast(S, reciprocals[k]);
                FloatVector ns = FloatVector.broadcast(S, negatedScales[k]);
                FloatVector x = FloatVector.fromArray(S, w, at);
                FloatVector y = FloatVector.fromArray(S, w, at + L);
                FloatVector qx = x.mul(r);
                FloatVector qy = y.mul(r);
                IntVector t = qx.fma(ns, x).fma(r, qx).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                IntVector u = qy.fma(ns, y).fma(r, qy).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                ((ByteVector) t.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at);
                ((ByteVector) u.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + L);
                if (four) {
                    x = FloatVector.fromArray(S, w, at + 2 * L);
                    y = FloatVector.fromArray(S, w, at + 3 * L);
                    qx = x.mul(r);
                    qy = y.mul(r);
                    t = qx.fma(ns, x).fma(r, qx).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    u = qy.fma(ns, y).fma(r, qy).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    ((ByteVector) t.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 2 * L);
                    ((ByteVector) u.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 3 * L);
                }
            }
            return;
        }
        for (int k = 0; k < count; k++) {
            int at = (b0 + k) * len;
            FloatVector r = FloatVector.broadcast(S, reciprocals[k]);
            FloatVector ns = FloatVector.broadcast(S, negatedScales[k]);
            for (int i = 0; i < len; i += L) {
                FloatVector x = FloatVector.fromArray(S, w, at + i);
                FloatVector qx = x.mul(r);
                IntVector t = qx.fma(ns, x).fma(r, qx).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                // The low byte of M + q is q; I2B keeps the low byte, like (byte).
                ((ByteVector) t.max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + i);
            }
        }
    }

    private static void roundShift(float[] w, int b0, int count, int len, float[] scales, float[] reciprocals,
                                   float[] negatedScales, int[] zs, int lo, int hi, byte[] q) {
        reciprocals(scales, b0, count, reciprocals, negatedScales);
        if (straightLine(len)) {
            boolean four = len == 4 * L;
            for (int k = 0; k < count; k++) {
                int at = (b0 + k) * len;
                FloatVector r = FloatVector.broadcast(S, reciprocals[k]);
                FloatVector ns = FloatVector.broadcast(S, negatedScales[k]);
                int zp = zs[k];
                FloatVector x = FloatVector.fromArray(S, w, at);
                FloatVector y = FloatVector.fromArray(S, w, at + L);
                FloatVector qx = x.mul(r);
                FloatVector qy = y.mul(r);
                IntVector t = qx.fma(ns, x).fma(r, qx).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                IntVector u = qy.fma(ns, y).fma(r, qy).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                ((ByteVector) t.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at);
                ((ByteVector) u.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + L);
                if (four) {
                    x = FloatVector.fromArray(S, w, at + 2 * L);
                    y = FloatVector.fromArray(S, w, at + 3 * L);
                    qx = x.mul(r);
                    qy = y.mul(r);
                    t = qx.fma(ns, x).fma(r, qx).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    u = qy.fma(ns, y).fma(r, qy).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                    ((ByteVector) t.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 2 * L);
                    ((ByteVector) u.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + 3 * L);
                }
            }
            return;
        }
        for (int k = 0; k < count; k++) {
            int at = (b0 + k) * len;
            FloatVector r = FloatVector.broadcast(S, reciprocals[k]);
            FloatVector ns = FloatVector.broadcast(S, negatedScales[k]);
            int zp = zs[k];
            for (int i = 0; i < len; i += L) {
                FloatVector x = FloatVector.fromArray(S, w, at + i);
                FloatVector qx = x.mul(r);
                IntVector t = qx.fma(ns, x).fma(r, qx).add(BlockKernel.RINT_MAGIC).reinterpretAsInts();
                ((ByteVector) t.add(zp).max(lo).min(hi).convertShape(VectorOperators.I2B, B, 0)).intoArray(q, at + i);
            }
        }
    }
}
