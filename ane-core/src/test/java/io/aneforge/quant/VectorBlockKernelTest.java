package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import io.aneforge.vector.VectorPath;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The Vector API block kernel against the plain-Java one, both called directly, bit for bit:
 * values, scales and zero points for every type and mode, block-wise and per-channel group
 * lengths, on randomized weights with planted hard cases; and the same error for non-finite
 * weights.
 */
class VectorBlockKernelTest {

    private static float[] weights(SplittableRandom r, int n, int len) {
        float[] d = new float[n];
        for (int g0 = 0; g0 < n; g0 += len) {
            int kind = r.nextInt(10);
            for (int i = g0; i < g0 + len; i++) {
                float g = (float) r.nextGaussian();
                d[i] = switch (kind) {
                    case 0 -> r.nextBoolean() ? 0f : -0f;            // all-zero group, mixed signs of zero
                    case 1 -> -Math.abs(g) * 3f;                      // extreme negative
                    case 2 -> Math.abs(g) * 3f;                       // extreme positive
                    case 3 -> g * 30000f;                             // large magnitudes (scale near the fp16 top)
                    case 4 -> g * 1e-7f;                              // scale near the fp16 subnormal floor
                    case 5 -> g * 1e-30f;                             // below it: scale clamps to 2^-24
                    case 6 -> i == g0 + 5 ? -40f : g * 0.01f;         // one spike
                    case 7 -> r.nextBoolean() ? -0f : g * 0.05f;      // ±0 among values
                    default -> g * 0.05f;
                };
            }
            if (kind == 8) {
                // Exact ties (k + ½)·s for the symmetric int8 scale of this group (max 1.27 -> s = fp16(0.01)),
                // and for the affine one (range [-1.28, 1.27] -> s = fp16(2.55 / 255)).
                boolean affineTies = r.nextBoolean();
                float s = affineTies ? Fp16.round((1.27f + 1.28f) / 255) : Fp16.round(1.27f / 127);
                d[g0] = 1.27f;
                d[g0 + 1] = affineTies ? -1.28f : 0.5f * s;
                for (int i = g0 + 2; i < g0 + len; i++) {
                    d[i] = (r.nextInt(250) - 125 + 0.5f) * s;
                }
            }
        }
        return d;
    }

    private record Out(byte[] q, float[] scales, byte[] zps) {
    }

    private static Out run(float[] w, int len, QuantSpec spec, boolean vector) {
        int groups = w.length / len;
        Out o = new Out(new byte[w.length], new float[groups],
                spec.mode() == QuantMode.AFFINE || !spec.type().signed() ? new byte[groups] : null);
        BlockKernel.quantize(new int[] {groups, len}, w, len, 0, groups, new GroupScale("w", spec), o.q, o.scales, o.zps,
                vector);
        return o;
    }

    @Test
    void vectorKernelIsOnInTests() {
        assertThat(VectorPath.enabled()).as(VectorPath.describe()).isTrue();
        assertThat(VectorBlockKernel.fits(32)).isTrue();
    }

    /**
     * Runs both kernels long enough for C2 to compile them: the interpreter and C1 implement
     * the vector operations in Java, C2 with intrinsics, and it is the intrinsics that must agree.
     */
    private static void warmUp() {
        SplittableRandom r = new SplittableRandom(3);
        float[] w = weights(r, 32 * 64, 32);
        for (int i = 0; i < 4000; i++) {
            QuantSpec spec = QuantSpec.perBlock(QuantType.INT8, i % 2 == 0 ? QuantMode.SYMMETRIC : QuantMode.AFFINE, 32);
            run(w, 32, spec, true);
            run(w, 32, spec, false);
        }
    }

    @Test
    void vectorKernelEqualsPlainKernelBitForBit() {
        warmUp();
        SplittableRandom r = new SplittableRandom(7);
        // 32/64/128: block-wise (tree in the plain kernel); 384 and 3072: per-channel rows (scan, and longer
        // than a plain chunk); 48: whole vectors but no tree; 100: not whole vectors (falls back to the plain kernel).
        for (int len : new int[] {32, 64, 128, 384, 3072, 48, 100}) {
            for (int rep = 0; rep < 3; rep++) {
                float[] w = weights(r, len * (1 + r.nextInt(90)), len);
                for (QuantSpec spec : everyTypeAndMode()) {
                    assertKernelsAgree(w, len, spec, spec.type() + " " + spec.mode() + " len " + len);
                }
            }
        }
    }

    /**
     * Quotients on and within a few ulps of halfway points, for every positive finite FP16 scale, every type and
     * both modes: where {@code rint(w / s)} is most fragile (a kernel that rounds {@code w · (1/s)}, or rounds
     * twice, differs exactly here). Each group is built to get scale s exactly: symmetric {@code ±qmax·s} as its
     * max |w|; affine {@code a·s} and {@code −b·s} with {@code a + b = hi − lo}. The other weights are
     * {@code (k + ½)·s} (exact in float, so w / s is exactly k + ½) moved by −2…2 ulps, and one in four is an
     * ordinary value. Both kernels must give the definition's {@code clamp(rint(w / s) + zp)}, computed here.
     */
    @Test
    void quotientsOnAndNextToHalfwayPointsForEveryFp16Scale() {
        warmUp();
        SplittableRandom r = new SplittableRandom(11);
        for (int len : new int[] {32, 128}) {
            for (QuantSpec spec : everyTypeAndMode()) {
                GroupScale grid = new GroupScale("w", spec);
                boolean symmetric = spec.mode() == QuantMode.SYMMETRIC;
                // Affine: the range [−b·s, a·s] with a + b = hi − lo gives (mx − mn) / (hi − lo) = s exactly.
                int b = symmetric ? grid.qmax() : (grid.hi() - grid.lo() + 1) / 2;
                int a = symmetric ? grid.qmax() : grid.hi() - grid.lo() - b;
                int step = len == 32 ? 1 : 7;
                int groups = 0x7bff / step;
                float[] w = new float[groups * len];
                float[] s = new float[groups];
                for (int g = 0; g < groups; g++) {
                    s[g] = Fp16.toFloat((short) (1 + g * step));
                    int g0 = g * len;
                    int first = symmetric ? 1 : 2;
                    w[g0] = (symmetric && g % 2 == 1 ? -a : a) * s[g];
                    if (!symmetric) {
                        w[g0 + 1] = -b * s[g];
                    }
                    for (int i = g0 + first; i < g0 + len; i++) {
                        int k = r.nextInt(a + b) - b;
                        if (r.nextInt(4) == 0) {
                            w[i] = (float) ((k + r.nextDouble()) * s[g]);
                            continue;
                        }
                        float v = (k + 0.5f) * s[g];
                        for (int d = r.nextInt(5) - 2; d != 0; d -= Integer.signum(d)) {
                            v = d > 0 ? Math.nextUp(v) : Math.nextDown(v);
                        }
                        w[i] = v;
                    }
                }
                String what = spec.type() + " " + spec.mode() + " len " + len;
                Out p = assertKernelsAgree(w, len, spec, what);
                int zp = grid.zeroPoint(a * 1f, -b * 1f);
                byte[] expected = new byte[w.length];
                for (int g = 0; g < groups; g++) {
                    assertThat(p.scales()[g]).as("constructed scale, group %d, %s", g, what).isEqualTo(s[g]);
                    for (int i = g * len; i < (g + 1) * len; i++) {
                        double q = Math.rint(w[i] / s[g]) + zp;
                        expected[i] = (byte) (int) Math.max(grid.lo(), Math.min(grid.hi(), q));
                    }
                }
                assertThat(p.q()).as("values (the vector kernel's are the same) " + what).isEqualTo(expected);
                if (p.zps() != null) {
                    assertThat(p.zps()[0]).as("zero point " + what).isEqualTo((byte) zp);
                }
            }
        }
    }

    /**
     * Scales of every magnitude FP16 can hold and a few below, for every type and mode: the vector kernel rounds
     * the quotients to FP16 with an add of 2^(e + 13), its exponent e clamped to FP16's normal range, so the
     * subnormal halves (below 2^−14), the top binade (2^15 up to 65504) and the scales that round to 0 (which
     * become 2^−24) are where it would go wrong. Eight groups per binade from 2^−40 to 2^15, values spread over
     * the whole range (affine: a random share of it below zero), against the plain kernel.
     */
    @Test
    void scalesOfEveryMagnitudeMatchThePlainKernel() {
        warmUp();
        SplittableRandom r = new SplittableRandom(13);
        for (int len : new int[] {32, 128}) {
            for (QuantSpec spec : everyTypeAndMode()) {
                GroupScale grid = new GroupScale("w", spec);
                boolean symmetric = spec.mode() == QuantMode.SYMMETRIC;
                int steps = symmetric ? grid.qmax() : grid.hi() - grid.lo();
                int groups = 8 * (15 + 40 + 1);
                float[] w = new float[groups * len];
                for (int g = 0; g < groups; g++) {
                    // a scale of about s = (1 + u) · 2^e, kept below FP16's largest value
                    double s = Math.min(65000, (1 + r.nextDouble()) * Math.scalb(1.0, g / 8 - 40));
                    double hi = symmetric ? s * steps : s * steps * r.nextDouble();
                    double lo = symmetric ? -hi : hi - s * steps;
                    int g0 = g * len;
                    w[g0] = (float) (symmetric && r.nextBoolean() ? lo : hi);
                    w[g0 + 1] = (float) lo;
                    for (int i = g0 + 2; i < g0 + len; i++) {
                        w[i] = (float) (lo + (hi - lo) * r.nextDouble());
                    }
                }
                assertKernelsAgree(w, len, spec, spec.type() + " " + spec.mode() + " len " + len);
            }
        }
    }

    @Test
    void nonFiniteWeightsFailTheSameWay() {
        warmUp();
        // A NaN with the sign bit set too: the vector kernel orders float bits as ints.
        for (float bad : new float[] {Float.NaN, Float.intBitsToFloat(0xffc0_0001), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY}) {
            for (int at : new int[] {0, 17, 31, 64 + 40}) {
                float[] w = weights(new SplittableRandom(at), 32 * 8, 32);
                w[at] = bad;
                for (QuantMode mode : QuantMode.values()) {
                    assertKernelsRefuse(w, QuantSpec.perBlock(QuantType.INT8, mode, 32), bad + " at " + at);
                }
            }
        }
    }

    @Test
    void scalesBeyondFp16FailTheSameWay() {
        warmUp();
        // 1e9 / 127 is far beyond FP16's 65504: both kernels must refuse with the same message,
        // wherever the group sits in a batch (the vector kernel rounds the scales of 64 groups at a time).
        for (int group : new int[] {0, 3, 17, 63, 64, 70}) {
            float[] w = weights(new SplittableRandom(group), 32 * 71, 32);
            w[group * 32 + 9] = 1e9f;
            for (QuantMode mode : QuantMode.values()) {
                assertThat(assertKernelsRefuse(w, QuantSpec.perBlock(QuantType.INT8, mode, 32), "group " + group))
                        .hasMessageContaining("block " + group);
            }
        }
    }

    /**
     * The affine scales and zero points are computed in double lanes a batch at a time (64 groups, then a
     * scalar tail shorter than the lane count); a group that needs the scalar path (all zero, non-finite,
     * scale beyond FP16) must get it wherever it sits: first or last in a batch, in the lanes or in the tail.
     * 77 groups: a full batch of 64, then 13 (the last 1–5 of them outside the double lanes for 4–8 lanes).
     */
    @Test
    void affineRareGroupsAnywhereInABatch() {
        warmUp();
        int groups = 77;
        for (int group : new int[] {0, 1, 7, 8, 63, 64, 71, 72, 75, 76}) {
            for (QuantType type : QuantType.values()) {
                QuantSpec spec = QuantSpec.perBlock(type, QuantMode.AFFINE, 32);
                String what = type + " group " + group;
                // All zero (scale 1, zero point at 0's code), one sign of zero each, next to ordinary groups.
                float[] zero = weights(new SplittableRandom(group), 32 * groups, 32);
                for (int i = group * 32; i < group * 32 + 32; i++) {
                    zero[i] = i % 3 == 0 ? -0f : 0f;
                }
                Out p = assertKernelsAgree(zero, 32, spec, what);
                assertThat(p.scales()[group]).as("all-zero scale (the vector kernel's is the same) " + what).isEqualTo(1f);
                // Non-finite (either sign, so that it is the max or the min) and beyond FP16: the same error.
                for (float bad : new float[] {Float.NaN, Float.intBitsToFloat(0xffc0_0001), Float.POSITIVE_INFINITY,
                        Float.NEGATIVE_INFINITY, 1e9f, -1e9f}) {
                    float[] w = weights(new SplittableRandom(group), 32 * groups, 32);
                    w[group * 32 + 13] = bad;
                    assertKernelsRefuse(w, spec, bad + " " + what);
                }
            }
        }
    }

    /** Every type and mode, block-wise (the group length is the kernel's argument; GroupScale reads only these). */
    private static java.util.List<QuantSpec> everyTypeAndMode() {
        java.util.List<QuantSpec> specs = new java.util.ArrayList<>();
        for (QuantType type : QuantType.values()) {
            for (QuantMode mode : QuantMode.values()) {
                specs.add(QuantSpec.perBlock(type, mode, 32));
            }
        }
        return specs;
    }

    /**
     * Runs both kernels on {@code w} in groups of {@code len}: the vector kernel's values, scales (bit for bit) and
     * zero points must be the plain kernel's. Answers the plain kernel's output.
     */
    private static Out assertKernelsAgree(float[] w, int len, QuantSpec spec, String what) {
        Out v = run(w, len, spec, true);
        Out p = run(w, len, spec, false);
        assertThat(v.q()).as("values " + what).isEqualTo(p.q());
        assertThat(floatBits(v.scales())).as("scales " + what).isEqualTo(floatBits(p.scales()));
        assertThat(v.zps()).as("zero points " + what).isEqualTo(p.zps());
        return p;
    }

    /**
     * Runs both kernels on {@code w} in groups of 32: each must refuse it with a {@link QuantizationException}, the
     * vector kernel with the plain kernel's message. Answers the plain kernel's exception.
     */
    private static Throwable assertKernelsRefuse(float[] w, QuantSpec spec, String what) {
        Throwable v = catchThrowable(() -> run(w, 32, spec, true));
        Throwable p = catchThrowable(() -> run(w, 32, spec, false));
        assertThat(p).as("plain kernel, " + what).isInstanceOf(QuantizationException.class);
        assertThat(v).as("vector kernel, " + what).isInstanceOf(QuantizationException.class).hasMessage(p.getMessage());
        return p;
    }

    private static int[] floatBits(float[] f) {
        return Arrays.stream(toDoubles(f)).mapToInt(d -> Float.floatToRawIntBits((float) d)).toArray();
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
