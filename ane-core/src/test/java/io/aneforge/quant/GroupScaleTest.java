package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class GroupScaleTest {

    @Test
    void positiveFp16RoundingMatchesTheGeneralConversion() {
        // Every binade from below the smallest FP16 subnormal to beyond FP16 max; in each, all
        // 2^14 patterns of the bits that decide the rounding under a few leading-bit patterns.
        int checked = 0;
        for (int exp = 127 - 30; exp <= 127 + 17; exp++) {
            for (int high : new int[] {0, 0x1ff, 0x200, 0x3ff, 0x155}) {
                for (int low = 0; low < (1 << 14); low++) {
                    int mantissa = ((high << 13) | low) & 0x7f_ffff;
                    float x = Float.intBitsToFloat((exp << 23) | mantissa);
                    expectSame(x);
                    checked++;
                }
            }
        }
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 300_000; i++) {
            expectSame(Float.intBitsToFloat(r.nextInt(0x0080_0000, 0x4800_0000)));
            checked++;
        }
        assertThat(checked).isGreaterThan(3_000_000);
    }

    /** The scale's bits, or the exception message: both must agree, including the overflow error. */
    private static String outcome(java.util.function.Supplier<Float> scale) {
        try {
            return Integer.toHexString(Float.floatToRawIntBits(scale.get()));
        } catch (QuantizationException e) {
            return e.getMessage();
        }
    }

    private static void expectSame(float x) {
        float expected = Fp16.round(x);
        float actual = GroupScale.roundPositiveToFp16(x);
        if (Float.isInfinite(expected)) {
            assertThat(actual).as("%s (bits %08x)", x, Float.floatToRawIntBits(x)).isGreaterThan(Fp16.MAX_VALUE);
        } else if (actual != expected) {
            throw new AssertionError("x=" + x + " bits " + Integer.toHexString(Float.floatToRawIntBits(x))
                    + ": expected " + expected + " got " + actual);
        }
    }

    @Test
    void symmetricScaleInFloatEqualsTheDoubleFormula() {
        SplittableRandom r = new SplittableRandom(6);
        for (QuantType type : QuantType.values()) {
            GroupScale grid = new GroupScale("w", QuantSpec.perBlock(type, QuantMode.SYMMETRIC, 32));
            float[] edges = {0f, Float.MIN_VALUE, 1e-30f, 0x1p-25f * 127, 0x1p-24f * 7, 0x1p-14f * 127, 1f, 127f, 65504f * 7};
            for (float m : edges) {
                assertThat(outcome(() -> grid.symmetricScale(m, 3))).as("%s %s", type, m)
                        .isEqualTo(outcome(() -> grid.scale(m, -m, 3)));
            }
            for (int i = 0; i < 50_000; i++) {
                float m = Float.intBitsToFloat(r.nextInt(0x0000_0001, 0x4ae0_0000)); // up to 7.3e6: some overflow FP16
                assertThat(outcome(() -> grid.symmetricScale(m, 3))).as("%s %s", type, m)
                        .isEqualTo(outcome(() -> grid.scale(m, -m, 3)));
            }
        }
    }
}
