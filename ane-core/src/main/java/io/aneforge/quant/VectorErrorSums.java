package io.aneforge.quant;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link QuantReport}'s error sums in vector lanes: lane c of pass h is chain {@code h·VL + c}, doing the
 * scalar definition's float operations in its order ({@link QuantReport#chunk}: a multiply, then an add,
 * no fused multiply-add), so the sums are bit-identical ({@code QuantReportTest}). With 16 lanes (AVX-512)
 * one pass covers the 16 chains; with 8 (AVX2) a piece is swept twice, once for chains 0–7 (the first
 * 8 of every 16 elements) and once for 8–15, each pass striding over the other's elements (the piece,
 * 4 KiB, is still in L1 for the second pass). Reached only when {@link io.aneforge.vector.VectorPath#enabled()}
 * (this class names incubator types) and {@link #usable()}.
 *
 * <p>As in {@code VectorBlockKernel}, no vector crosses a method boundary: C2 boxes a vector passed
 * to a helper it did not inline. And no vector is carried across the pass loop: each pass loads its
 * running sums from the float arrays and stores them back.
 */
final class VectorErrorSums {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Float lanes per vector (8 or 16 where {@link #usable()}). */
    private static final int VL = F.length();
    /** Bytes with as many lanes as F has floats; a constant species C2 can see through. */
    private static final VectorSpecies<Byte> B = VL == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
    /** Chains, and the stride of every pass. */
    private static final int L = QuantReport.CHAINS;

    private VectorErrorSums() {
    }

    /**
     * Whether the preferred float vector divides the chains into whole passes: 16 lanes (AVX-512) or
     * 8 (AVX2). Only the preferred shape is used: the kernels that matter (GEMM) are compiled for it,
     * and C2 compiled them with boxed vectors in some cold JVMs once another float shape was also in use.
     */
    static boolean usable() {
        return (VL == 16 || VL == 8) && L % VL == 0;
    }

    /** Whether {@link #quantized} takes this weight: every group is whole strides (so no vector spans two scales). */
    static boolean fused(QuantizedWeight q) {
        return q.groupLength() % L == 0;
    }

    /** {@link QuantReport#chunk} of {@code source[from, from + n)} against {@code approx[0, n)}. */
    static void chunk(float[] source, int from, float[] approx, int n, double[] chains) {
        float[] sa = new float[L];
        float[] qa = new float[L];
        float[] ma = new float[L];
        int whole = n - n % L;
        for (int h = 0; h < L; h += VL) {
            FloatVector s = FloatVector.fromArray(F, sa, h);
            FloatVector q = FloatVector.fromArray(F, qa, h);
            FloatVector m = FloatVector.fromArray(F, ma, h);
            for (int i = h; i < whole; i += L) {
                FloatVector w = FloatVector.fromArray(F, source, from + i);
                FloatVector e = w.sub(FloatVector.fromArray(F, approx, i));
                s = s.add(w.mul(w));
                q = q.add(e.mul(e));
                m = m.max(e.abs());
            }
            s.intoArray(sa, h);
            q.intoArray(qa, h);
            m.intoArray(ma, h);
        }
        QuantReport.add(source, from, approx, whole, n, sa, qa, ma); // the last piece's tail, as in the definition
        QuantReport.fold(sa, qa, ma, chains);
    }

    /*
     * One loop for signed and unsigned values, without a choice inside it (with one, the two conversions
     * would meet in one vector phi, which C2 boxes): every byte is XORed with a broadcast vector, 0 for signed
     * values. The running sums go through the chains' float arrays at every group and pass: a vector carried
     * from one group to the next (through the outer loop) made C2 (JDK 17) box it on every iteration, 2.3 ms
     * instead of 0.4 for a 1536×384 weight; in memory between groups they add in the same order as one flat
     * loop would. The zero point is a broadcast vector, not a scalar operand ({@code v.sub(float)} was not
     * intrinsified either), and unsigned bytes flip their top bit and convert as signed (B2I then I2F, or a
     * blend adding 256, were boxed too).
     */

    /**
     * The whole measurement of a quantized weight ({@link #fused}), dequantizing in the lanes:
     * {@code ŵ = scale · (q − zp)} with {@code q − zp} converted to float (exact: both are small
     * integers), the same float {@link QuantizedWeight#dequantize} computes; pieces end at the same
     * multiples of {@link QuantReport#CHUNK}.
     */
    static void quantized(float[] source, QuantizedWeight weight, double[] chains) {
        float[] sa = new float[L];
        float[] qa = new float[L];
        float[] ma = new float[L];
        for (int p = 0; (long) p * QuantReport.CHUNK < weight.values().length; p++) {
            quantizedPiece(source, weight, p, sa, qa, ma);
            QuantReport.fold(sa, qa, ma, chains);
        }
    }

    /**
     * Piece {@code p} of {@link #quantized} (elements {@code [p·CHUNK, (p + 1)·CHUNK)}) into fresh float chains
     * {@code sa, qa, ma}: group by group, each group's part of the piece in strides. A piece depends only on
     * its own elements, so pieces can be measured on any thread, as their groups are quantized, and folded
     * in order afterwards ({@link WeightQuantizer}).
     */
    static void quantizedPiece(float[] source, QuantizedWeight weight, int p, float[] sa, float[] qa, float[] ma) {
        boolean signed = weight.spec().type().signed();
        // u − 128 is the byte u with its top bit flipped, read as signed: (u − 128) − (zp − 128) = u − zp.
        // Signed bytes are XORed with 0, which leaves them as they are.
        ByteVector flip = ByteVector.broadcast(B, signed ? (byte) 0 : (byte) 0x80);
        byte[] values = weight.values();
        float[] scales = weight.scales();
        byte[] zps = weight.zeroPoints();
        int len = weight.groupLength();
        int pieceStart = p * QuantReport.CHUNK;
        int pieceEnd = Math.min(values.length, pieceStart + QuantReport.CHUNK);
        Arrays.fill(sa, 0f);
        Arrays.fill(qa, 0f);
        Arrays.fill(ma, 0f);
        for (int g = pieceStart / len; g < scales.length && g * len < pieceEnd; g++) {
            FloatVector scale = FloatVector.broadcast(F, scales[g]);
            float z = zps == null ? 0f : signed ? zps[g] : (zps[g] & 0xff);
            FloatVector zp = FloatVector.broadcast(F, signed ? z : z - 128f);
            int i = Math.max(g * len, pieceStart);
            int end = Math.min((g + 1) * len, pieceEnd);
            for (int h = 0; h < L; h += VL) {
                FloatVector s = FloatVector.fromArray(F, sa, h);
                FloatVector q = FloatVector.fromArray(F, qa, h);
                FloatVector m = FloatVector.fromArray(F, ma, h);
                for (int k = i + h; k < end; k += L) {
                    FloatVector v = (FloatVector) ByteVector.fromArray(B, values, k).lanewise(VectorOperators.XOR, flip)
                            .convertShape(VectorOperators.B2F, F, 0);
                    FloatVector w = FloatVector.fromArray(F, source, k);
                    FloatVector e = w.sub(v.sub(zp).mul(scale));
                    s = s.add(w.mul(w));
                    q = q.add(e.mul(e));
                    m = m.max(e.abs());
                }
                s.intoArray(sa, h);
                q.intoArray(qa, h);
                m.intoArray(ma, h);
            }
        }
    }

    /**
     * The measurement of an FP16 encoding of a source (every value within ±65504, as
     * {@link WeightQuantizer#toFp16} guarantees), with each dequantized value computed in the lanes as
     * {@code Fp16.round} of its source value instead of decoded from the halves: a normal half rounds the
     * float's mantissa to 10 bits (ties to even) on the bits, below 2^-14 {@code (|w| + 0.5) − 0.5} rounds
     * to a multiple of 2^-24. The error is taken on magnitudes ({@code |w| − |ŵ|}: the same magnitude as
     * {@code w − ŵ}, since ŵ has w's sign and float subtraction is symmetric in sign), so its square and
     * absolute value are the definition's bits. Pieces and tails as {@link #chunk}, one
     * piece at a time, so that the encoder measures each piece right after converting it (while it is in cache):
     * {@link #add} the pieces in order, each starting at a multiple of {@link QuantReport#CHUNK} and {@code CHUNK}
     * long except the last ({@link WeightQuantizer}).
     */
    static final class Fp16Pieces {
        private final float[] sa = new float[L];
        private final float[] qa = new float[L];
        private final float[] ma = new float[L];
        private final float[] tail = new float[QuantReport.CHUNK];

        void add(float[] source, int from, int n, double[] chains) {
            int whole = n - n % L;
            Arrays.fill(sa, 0f);
            Arrays.fill(qa, 0f);
            Arrays.fill(ma, 0f);
            for (int h = 0; h < L; h += VL) {
                FloatVector s = FloatVector.fromArray(F, sa, h);
                FloatVector q = FloatVector.fromArray(F, qa, h);
                FloatVector m = FloatVector.fromArray(F, ma, h);
                for (int i = h; i < whole; i += L) {
                    FloatVector w = FloatVector.fromArray(F, source, from + i);
                    IntVector abs = w.reinterpretAsInts().and(0x7fff_ffff);
                    IntVector normal = abs.add(abs.lanewise(VectorOperators.LSHR, 13).and(1)).add(0xfff).and(0xffff_e000);
                    FloatVector absW = abs.reinterpretAsFloats();
                    IntVector subnormal = absW.add(0.5f).sub(0.5f).reinterpretAsInts();
                    FloatVector rounded = normal.blend(subnormal, abs.compare(VectorOperators.LT, 0x3880_0000))
                            .reinterpretAsFloats();
                    FloatVector e = absW.sub(rounded);
                    s = s.add(w.mul(w));
                    q = q.add(e.mul(e));
                    m = m.max(e.abs());
                }
                s.intoArray(sa, h);
                q.intoArray(qa, h);
                m.intoArray(ma, h);
            }
            for (int i = whole; i < n; i++) {
                tail[i] = io.aneforge.kernels.Fp16.round(source[from + i]);
            }
            QuantReport.add(source, from, tail, whole, n, sa, qa, ma);
            QuantReport.fold(sa, qa, ma, chains);
        }
    }
}
