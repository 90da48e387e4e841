package io.aneforge.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Fp16#round} in vector lanes, for the FP16 activations of the reference runtime (every op
 * output of an FP16 program is rounded; with the scalar conversion pair, {@code Fp16.fromFloat}
 * alone was 19 % of the profile samples of a default MiniLM convert). Reached from {@link Fp16} only when
 * {@link io.aneforge.vector.VectorPath#enabled()} (this class names incubator types).
 *
 * <p>All three cases are computed in every lane and picked by masks (no branch per element):
 * the normal-half rounding on the float bits, the {@code (|x| + 0.5) - 0.5} rounding below
 * 2^-14, and infinity/NaN at and above 65520. Same bits as {@link Fp16#round}.
 */
final class VectorFp16 {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private VectorFp16() {
    }

    static void round(float[] data, int from, int to) {
        int i = from;
        IntVector infinity = IntVector.broadcast(I, 0x7f80_0000);
        for (int end = from + F.loopBound(to - from); i < end; i += L) {
            IntVector bits = FloatVector.fromArray(F, data, i).reinterpretAsInts();
            IntVector abs = bits.and(0x7fff_ffff);
            IntVector normal = abs.add(abs.lanewise(VectorOperators.LSHR, 13).and(1)).add(0xfff).and(0xffff_e000);
            IntVector subnormal = abs.reinterpretAsFloats().add(0.5f).sub(0.5f).reinterpretAsInts();
            IntVector r = normal.blend(subnormal, abs.compare(VectorOperators.LT, 0x3880_0000));
            VectorMask<Integer> big = abs.compare(VectorOperators.GE, 0x477f_f000);
            if (big.anyTrue()) {
                IntVector special = infinity.blend(abs.and(0x7f_e000).or(0x7fc0_0000),
                        abs.compare(VectorOperators.GT, 0x7f80_0000));
                r = r.blend(special, big);
            }
            r.or(bits.and(0x8000_0000)).reinterpretAsFloats().intoArray(data, i);
        }
        for (; i < to; i++) {
            data[i] = Fp16.round(data[i]);
        }
    }

    /**
     * {@link Fp16#fromFloat} of {@code src[from, ...)} into {@code dst}, whole vectors only, for values
     * within ±65504: stops at the first vector holding a larger value, infinity or NaN, or at the
     * last whole vector, and returns where it stopped. A normal half is the {@link #round} bits
     * rebased from the float exponent bias to the half's ({@code (r − 112·2^23) >>> 13}); below
     * 2^-14 the rounded value is an integer multiple of 2^-24, which is the half's mantissa.
     */
    static int toHalves(float[] src, short[] dst, int from, int to) {
        int[] bits16 = new int[Math.min(CHUNK, Math.max(0, to - from))];
        int i = from;
        while (i + L <= to) {
            int n = Math.min(bits16.length, F.loopBound(to - i));
            int k = 0;
            for (; k < n; k += L) {
                IntVector bits = FloatVector.fromArray(F, src, i + k).reinterpretAsInts();
                IntVector abs = bits.and(0x7fff_ffff);
                if (abs.compare(VectorOperators.GT, 0x477f_e000).anyTrue()) {
                    break;
                }
                IntVector normal = abs.add(abs.lanewise(VectorOperators.LSHR, 13).and(1)).add(0xfff).and(0xffff_e000)
                        .sub(0x3800_0000).lanewise(VectorOperators.LSHR, 13);
                // the rounded subnormal times 2^24 is an integer below 2^11: adding 2^23 puts it in the mantissa bits
                IntVector subnormal = abs.reinterpretAsFloats().add(0.5f).sub(0.5f).mul(0x1p24f).add(0x1p23f)
                        .reinterpretAsInts().and(0x7f_ffff);
                normal.blend(subnormal, abs.compare(VectorOperators.LT, 0x3880_0000))
                        .or(bits.lanewise(VectorOperators.LSHR, 16).and(0x8000)).intoArray(bits16, k);
            }
            for (int j = 0; j < k; j++) { // C2 narrows this loop in vector lanes itself
                dst[i + j] = (short) bits16[j];
            }
            i += k;
            if (k < n) {
                return i;
            }
        }
        return i;
    }

    /** Floats per pass of {@link #toHalves} (its int scratch stays in L1). */
    private static final int CHUNK = 2048;

    /**
     * {@link Fp16#toFloat} of {@code n} little-endian halves from element {@code from} of {@code raw}
     * into {@code dst} at {@code off}, in int lanes: a normal half's bits move to the float's
     * ({@code (h & 0x7fff) << 13}, exponent rebased by 112), infinity and NaN keep their mantissa
     * under an all-ones exponent, and a subnormal is its mantissa times 2^-24 (the mantissa becomes
     * a float exactly by the 2^23 trick). Same floats as the table ({@code Fp16Test}, all 65536).
     */
    static void toFloats(byte[] raw, int from, float[] dst, int off, int n) {
        java.nio.ShortBuffer halves = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        short[] s = new short[Math.min(CHUNK, n)];
        int[] h = new int[s.length];
        for (int done = 0; done < n; ) {
            int m = Math.min(s.length, n - done);
            halves.get(from + done, s, 0, m);
            for (int j = 0; j < m; j++) { // C2 widens this loop in vector lanes itself
                h[j] = s[j] & 0xffff;
            }
            int j = 0;
            for (int end = F.loopBound(m); j < end; j += L) {
                IntVector x = IntVector.fromArray(I, h, j);
                IntVector exp = x.and(0x7c00);
                IntVector mant = x.and(0x3ff);
                IntVector normal = x.and(0x7fff).lanewise(VectorOperators.LSHL, 13).add(0x3800_0000);
                IntVector special = mant.lanewise(VectorOperators.LSHL, 13).or(0x7f80_0000);
                IntVector subnormal = mant.or(0x4b00_0000).reinterpretAsFloats().sub(0x1p23f).mul(0x1p-24f).reinterpretAsInts();
                IntVector v = normal.blend(special, exp.compare(VectorOperators.EQ, 0x7c00))
                        .blend(subnormal, exp.compare(VectorOperators.EQ, 0));
                v.or(x.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(dst, off + done + j);
            }
            for (; j < m; j++) {
                dst[off + done + j] = Fp16.toFloat(s[j]);
            }
            done += m;
        }
    }
}
