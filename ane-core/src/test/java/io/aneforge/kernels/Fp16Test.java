package io.aneforge.kernels;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class Fp16Test {

    /** Independent definition of a half's value: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024. */
    private static double referenceValue(int h) {
        int s = (h >>> 15) & 1;
        int e = (h >>> 10) & 0x1f;
        int m = h & 0x3ff;
        double v = e == 0 ? Math.scalb((double) m, -24) : Math.scalb(1024.0 + m, e - 25);
        return s == 1 ? -v : v;
    }

    /** Reference FP32 → FP16 in double arithmetic: scale to the half's ulp grid, rint (ties even), scale back. */
    private static double referenceRound(float f) {
        double d = f;
        double a = Math.abs(d);
        int e = Math.max(Math.getExponent(a), -14);
        double ulp = Math.scalb(1.0, e - 10);
        double r = Math.rint(a / ulp) * ulp; // exact: a/ulp has < 53 significant bits
        if (r > 65504) {
            r = Double.POSITIVE_INFINITY;
        }
        return Math.copySign(r, d);
    }

    @Test
    void everyHalfDecodesToItsDefinitionAndRoundTrips() {
        int nan = 0;
        for (int h = 0; h < 65536; h++) {
            float f = Fp16.toFloat((short) h);
            int exp = (h >>> 10) & 0x1f;
            if (exp == 0x1f && (h & 0x3ff) != 0) {
                assertThat(f).isNaN();
                assertThat(Fp16.fromFloat(f) & 0x7c00).isEqualTo(0x7c00);
                assertThat(Fp16.fromFloat(f) & 0x3ff).isNotZero();
                nan++;
                continue;
            }
            if (exp == 0x1f) {
                assertThat(f).isInfinite();
            } else {
                assertThat((double) f).isEqualTo(referenceValue(h));
            }
            assertThat(Fp16.fromFloat(f) & 0xffff).as("round trip of 0x%04x", h).isEqualTo(h);
        }
        assertThat(nan).isEqualTo(2 * 1023);
    }

    @Test
    void midpointsAndTheirNeighboursRoundLikeTheReference() {
        Map<Double, Integer> byValue = new HashMap<>();
        for (int h = 0; h < 0x7c00; h++) {
            byValue.put(referenceValue(h), h);
        }
        byValue.put(Double.POSITIVE_INFINITY, 0x7c00);
        for (int h = 0; h < 0x7c00; h++) {
            // Midpoint between h and h+1 is exactly representable in FP32 (12 significant bits).
            float mid = (float) ((referenceValue(h) + referenceValue(h + 1)) / 2);
            for (float f : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                int expected = byValue.get(referenceRound(f));
                assertThat(Fp16.fromFloat(f) & 0xffff).as("fromFloat(%s)", f).isEqualTo(expected);
                assertThat(Fp16.fromFloat(-f) & 0xffff).as("fromFloat(%s)", -f).isEqualTo(expected | 0x8000);
            }
        }
    }

    @Test
    void randomFloatsAcrossAllExponentsMatchTheReference() {
        SplittableRandom random = new SplittableRandom(7);
        Map<Double, Integer> byValue = new HashMap<>();
        for (int h = 0; h < 0x7c00; h++) {
            byValue.put(referenceValue(h), h);
        }
        byValue.put(Double.POSITIVE_INFINITY, 0x7c00);
        for (int i = 0; i < 2_000_000; i++) {
            float f = Float.intBitsToFloat(random.nextInt(0x7f80_0000)); // every finite positive float equally
            assertThat(Fp16.fromFloat(f) & 0xffff).as("fromFloat(%s)", f).isEqualTo(byValue.get(referenceRound(f)));
        }
    }

    @Test
    void edgeCases() {
        assertThat(Fp16.fromFloat(65504f)).isEqualTo((short) 0x7bff);
        assertThat(Fp16.fromFloat(65519.996f)).isEqualTo((short) 0x7bff);
        assertThat(Fp16.fromFloat(65520f)).isEqualTo((short) 0x7c00); // overflow to inf (tie to even)
        assertThat(Fp16.fromFloat(1e10f)).isEqualTo((short) 0x7c00);
        assertThat(Fp16.fromFloat(-1e10f)).isEqualTo((short) 0xfc00);
        assertThat(Fp16.fromFloat(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7c00);
        assertThat(Fp16.toFloat(Fp16.fromFloat(Float.NaN))).isNaN();
        assertThat(Fp16.fromFloat(0x1p-24f)).isEqualTo((short) 0x0001); // smallest subnormal
        assertThat(Fp16.fromFloat(0x1p-25f)).isEqualTo((short) 0x0000); // tie to even -> 0
        assertThat(Fp16.fromFloat(Math.nextUp(0x1p-25f))).isEqualTo((short) 0x0001);
        assertThat(Fp16.fromFloat(0x1.8p-24f)).isEqualTo((short) 0x0002); // 1.5 ulp ties to even 2
        assertThat(Fp16.fromFloat(-0f)).isEqualTo((short) 0x8000);
        assertThat(Fp16.fromFloat(Float.MIN_VALUE)).isEqualTo((short) 0);
        assertThat(Fp16.fromFloat(0x1.ff8p-15f)).isEqualTo((short) 0x03ff); // largest subnormal
        assertThat(Fp16.fromFloat(0x1.ffcp-15f)).isEqualTo((short) 0x0400); // tie rounds up into the smallest normal
        assertThat(Fp16.fromFloat(1.0009766f)).isEqualTo((short) 0x3c01);
        assertThat(Fp16.fromFloat(1.00048828125f)).isEqualTo((short) 0x3c00); // tie to even
        assertThat(Fp16.fromFloat(1.00146484375f)).isEqualTo((short) 0x3c02); // tie to even (up)
    }

    /** Float bits that exercise every rounding decision: all sign/exponent/top-10-mantissa patterns with the low 13 bits at and around the tie. */
    private static int[] roundingPatterns() {
        int[] lows = {0, 1, 0x7ff, 0xfff, 0x1000, 0x1001, 0x17ff, 0x1fff};
        int[] out = new int[(1 << 19) * lows.length];
        int k = 0;
        for (int high = 0; high < 1 << 19; high++) {
            for (int low : lows) {
                out[k++] = high << 13 | low;
            }
        }
        return out;
    }

    private static int pairBits(int bits) {
        return Float.floatToRawIntBits(Fp16.toFloat(Fp16.fromFloat(Float.intBitsToFloat(bits))));
    }

    @Test
    void roundIsTheConversionPairBitForBit() {
        for (int bits : roundingPatterns()) {
            int got = Float.floatToRawIntBits(Fp16.round(Float.intBitsToFloat(bits)));
            if (got != pairBits(bits)) {
                assertThat(Integer.toHexString(got)).as("round(0x%08x)", bits).isEqualTo(Integer.toHexString(pairBits(bits)));
            }
        }
        // Below 2^-14 the rounding position moves with the exponent: every float from 2^-25 (below, all round to 0) up.
        for (int bits = 0x3300_0000; bits < 0x3880_0000; bits++) {
            int got = Float.floatToRawIntBits(Fp16.round(Float.intBitsToFloat(bits)));
            if (got != pairBits(bits)) {
                assertThat(Integer.toHexString(got)).as("round(0x%08x)", bits).isEqualTo(Integer.toHexString(pairBits(bits)));
            }
        }
    }

    @Test
    void vectorRoundingIsTheScalarRoundingBitForBit() {
        assertThat(io.aneforge.vector.VectorPath.enabled()).as(io.aneforge.vector.VectorPath.describe()).isTrue();
        int[] patterns = roundingPatterns();
        float[] data = new float[patterns.length];
        for (int i = 0; i < data.length; i++) {
            data[i] = Float.intBitsToFloat(patterns[i]);
        }
        VectorFp16.round(data, 3, data.length - 5); // unaligned start, scalar tail
        for (int i = 0; i < data.length; i++) {
            int expected = i < 3 || i >= data.length - 5 ? patterns[i] : pairBits(patterns[i]);
            if (Float.floatToRawIntBits(data[i]) != expected) {
                assertThat(Integer.toHexString(Float.floatToRawIntBits(data[i]))).as("lane value 0x%08x", patterns[i])
                        .isEqualTo(Integer.toHexString(expected));
            }
        }
        float[] chunk = new float[1 << 20];
        for (int start = 0x3300_0000; start < 0x3880_0000; start += chunk.length) {
            for (int j = 0; j < chunk.length; j++) {
                chunk[j] = Float.intBitsToFloat(start + j);
            }
            VectorFp16.round(chunk, 0, chunk.length);
            for (int j = 0; j < chunk.length; j++) {
                if (Float.floatToRawIntBits(chunk[j]) != pairBits(start + j)) {
                    assertThat(Integer.toHexString(Float.floatToRawIntBits(chunk[j]))).as("lane value 0x%08x", start + j)
                            .isEqualTo(Integer.toHexString(pairBits(start + j)));
                }
            }
        }
    }

    @Test
    void roundInPlaceMatchesScalarConversion() {
        SplittableRandom random = new SplittableRandom(3);
        float[] data = new float[100_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (random.nextGaussian() * 100);
        }
        float[] copy = data.clone();
        Fp16.roundInPlace(data);
        for (int i = 0; i < data.length; i++) {
            assertThat(data[i]).isEqualTo(Fp16.toFloat(Fp16.fromFloat(copy[i])));
        }
    }

    /**
     * The weight conversion (vector lanes in this JVM) gives fromFloat's bits for every value within
     * ±65504: all float bit patterns in that range at a stride of 5 (both signs, ~70 M values, the
     * stride coprime to every rounding-bit period), and stops exactly where a value is out of range.
     */
    @Test
    void weightConversionMatchesFromFloatAndStopsAtTheFirstValueBeyondFp16() {
        float[] chunk = new float[1 << 16];
        short[] halves = new short[chunk.length];
        int n = 0;
        for (long b = 0; b <= 0x477f_e000L; b += 5) {
            chunk[n++] = Float.intBitsToFloat((int) b);
            chunk[n++] = -Float.intBitsToFloat((int) b);
            if (n == chunk.length || b + 5 > 0x477f_e000L) {
                assertThat(Fp16.fromFloatsWithinRange(chunk, halves, 0, n)).isEqualTo(n);
                for (int i = 0; i < n; i++) {
                    if (halves[i] != Fp16.fromFloat(chunk[i])) {
                        throw new AssertionError("bits " + Integer.toHexString(Float.floatToRawIntBits(chunk[i])) + ": "
                                + Integer.toHexString(halves[i] & 0xffff) + " vs " + Integer.toHexString(Fp16.fromFloat(chunk[i]) & 0xffff));
                    }
                }
                n = 0;
            }
        }
        float[] w = new float[100];
        java.util.Arrays.fill(w, 1.5f);
        assertThat(Fp16.fromFloatsWithinRange(w, new short[100], 0, 100)).isEqualTo(100);
        for (float bad : new float[] {65505f, Float.POSITIVE_INFINITY, Float.NaN, -1e6f}) {
            w[37] = bad;
            short[] out = new short[100];
            assertThat(Fp16.fromFloatsWithinRange(w, out, 0, 100)).isEqualTo(37);
            assertThat(out[36]).isEqualTo(Fp16.fromFloat(1.5f));
        }
        w[37] = 65504f;
        assertThat(Fp16.fromFloatsWithinRange(w, new short[100], 3, 99)).isEqualTo(99);
    }

    /** The load-time decoding (int lanes in this JVM) gives toFloat's bits for all 65536 halves, at any offset and tail. */
    @Test
    void decodingEveryHalfMatchesToFloatBitForBit() {
        byte[] raw = new byte[2 * 65536 + 2];
        for (int h = 0; h < 65536; h++) {
            raw[2 * h + 2] = (byte) h;
            raw[2 * h + 3] = (byte) (h >>> 8);
        }
        float[] out = new float[65536 + 5];
        Fp16.toFloats(raw, 1, out, 5, 65536);
        for (int h = 0; h < 65536; h++) {
            assertThat(Float.floatToRawIntBits(out[5 + h])).as("half %04x", h)
                    .isEqualTo(Float.floatToRawIntBits(Fp16.toFloat((short) h)));
        }
        float[] tail = new float[7];
        Fp16.toFloats(raw, 0x3c00 + 1, tail, 0, 7); // 1.0 and the next six halves, fewer than a vector
        assertThat(tail[0]).isEqualTo(1.0f);
        assertThat(tail[6]).isEqualTo(Fp16.toFloat((short) 0x3c06));
    }
}
