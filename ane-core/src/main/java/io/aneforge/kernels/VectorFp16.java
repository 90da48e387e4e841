package io.aneforge.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
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
    /** Shorts with as many lanes as {@link #I}: the FP16 bits of one float vector. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(I.vectorBitSize() / 2));

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
        int i = from;
        for (int end = from + F.loopBound(to - from); i < end; i += L) {
            IntVector bits = FloatVector.fromArray(F, src, i).reinterpretAsInts();
            IntVector abs = bits.and(0x7fff_ffff);
            if (abs.compare(VectorOperators.GT, 0x477f_e000).anyTrue()) {
                return i;
            }
            IntVector normal = abs.add(abs.lanewise(VectorOperators.LSHR, 13).and(1)).add(0xfff).and(0xffff_e000)
                    .sub(0x3800_0000).lanewise(VectorOperators.LSHR, 13);
            IntVector subnormal = ((FloatVector) abs.reinterpretAsFloats().add(0.5f).sub(0.5f).mul(0x1p24f)
                    .convert(VectorOperators.F2I, 0).reinterpretAsFloats()).reinterpretAsInts();
            IntVector h = normal.blend(subnormal, abs.compare(VectorOperators.LT, 0x3880_0000))
                    .or(bits.lanewise(VectorOperators.LSHR, 16).and(0x8000));
            ((ShortVector) h.convertShape(VectorOperators.I2S, H, 0)).intoArray(dst, i);
        }
        return i;
    }
}
