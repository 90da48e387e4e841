package io.aneforge.quant;

import io.aneforge.kernels.Fp16;

/**
 * {@link QuantSpec.ScaleFit#MSE}: per group, the FP16 scale (affine: and zero point) whose
 * stored weights have the least squared error, instead of the scale that covers the whole
 * range. With 4 bits the range scale is set by the block's largest weight alone; a smaller
 * scale that clips the few largest weights to the edge of a finer grid often has less error
 * over the block as a whole (ClipSearchTest, Gaussian blocks: −21 % symmetric, −9 % affine).
 *
 * <p>The search, per group, every candidate evaluated with its FP16-rounded scale exactly as
 * the device dequantizes ({@code s · (q − zp)} in float, q = {@code clip(rint(w / s) + zp)}):
 * <ol>
 *   <li>the range scale and zero point ({@link GroupScale}, what {@link QuantSpec.ScaleFit#RANGE}
 *       stores) — the first candidate, so the result is never worse than the default;</li>
 *   <li>a grid of clipped ranges: symmetric {@code r · max|w|}, r = 1.00, 0.99, …, 0.50;
 *       affine {@code [b · min, a · max]}, a, b = 1.00, 0.95, …, 0.50 (the two ends clip
 *       independently), scale and zero point from the {@link GroupScale} formulas;</li>
 *   <li>a local descent from the best: the least-squares scale for the chosen integers, the
 *       neighbouring FP16 scales and (affine) zero points ±1, while one of them lowers the error.</li>
 * </ol>
 * A candidate replaces the best only when its error is strictly smaller, and the order is
 * fixed: the result is a function of the group's weights alone (deterministic, independent of
 * threads and of the other groups). Symmetric groups stay scale-only (zero point 0, or the mid
 * point for unsigned types) but may use the lowest code as well (int4: −8…7 instead of −7…7;
 * measured on all-MiniLM-L6-v2 int4-block32, 8 sentences: mean token cosine 0.9615 restricted,
 * 0.9660 full).
 * All-zero groups and non-finite weights are handled exactly as by the range fit.
 *
 * <p>Cost: about 50 (symmetric) or 120 (affine) error evaluations per group, most cut short
 * once they exceed the best so far: on one thread 3.0 s (symmetric) and 5.3 s (affine) for a
 * 30522×384 table, about 200× the range kernels, which do not implement it
 * ({@link WeightQuantizer} routes MSE specs here).
 */
final class ClipSearch {

    /** Symmetric grid: r = 1 − k / 100 for k = 0 … 50. */
    private static final int SYMMETRIC_STEPS = 50;
    private static final double SYMMETRIC_STEP = 0.01;
    /** Affine grid per end: 1 − k · 0.05 for k = 0 … 10. */
    private static final int AFFINE_STEPS = 10;
    private static final double AFFINE_STEP = 0.05;
    /** Bound on the local descent (it stops earlier when nothing improves, usually after 1–3 rounds). */
    private static final int MAX_DESCENT = 32;

    private final GroupScale grid;
    private final int lo;
    private final int hi;

    ClipSearch(GroupScale grid) {
        this.grid = grid;
        // Symmetric: the full signed range (int4 −8…7; the range fit keeps −7…7). Still scale-only with
        // zero point 0; the extra level lets a block whose extreme is negative use a finer step.
        this.lo = grid.symmetric() ? grid.lo() - 1 : grid.lo();
        this.hi = grid.hi();
    }

    /** Quantizes groups {@code [g0, g1)} of {@code w} (each {@code len} contiguous elements). */
    void quantize(int[] shape, float[] w, int len, int g0, int g1, byte[] q, float[] scales, byte[] zps) {
        for (int g = g0; g < g1; g++) {
            int off = g * len;
            float mx = 0f;
            float mn = 0f;
            for (int i = off; i < off + len; i++) {
                mx = Math.max(mx, w[i]);
                mn = Math.min(mn, w[i]);
            }
            WeightQuantizer.checkFinite(grid.name(), shape, w, off, len, mx, mn);
            // The range fit first: its scale check (FP16 overflow) and its all-zero rule apply unchanged.
            Fit best = evaluate(w, off, len, grid.scale(mx, mn, g), grid.zeroPoint(mx, mn), Double.POSITIVE_INFINITY);
            if (best.error > 0) {
                best = grid.symmetric() ? searchSymmetric(w, off, len, mx, mn, g, best)
                        : searchAffine(w, off, len, mx, mn, g, best);
                best = descend(w, off, len, best);
            }
            scales[g] = best.scale;
            if (zps != null) {
                zps[g] = (byte) best.zeroPoint;
            }
            for (int i = off; i < off + len; i++) {
                q[i] = (byte) quantizeOne(w[i], best.scale, best.zeroPoint);
            }
        }
    }

    /** A scale and zero point with the squared error they give the group. */
    private record Fit(float scale, int zeroPoint, double error) {
    }

    private Fit searchSymmetric(float[] w, int off, int len, float mx, float mn, int g, Fit best) {
        float maxAbs = Math.max(mx, -mn);
        int zp = best.zeroPoint;
        float last = best.scale;
        for (int k = 1; k <= SYMMETRIC_STEPS; k++) {
            float s = grid.scale((float) (maxAbs * (1 - k * SYMMETRIC_STEP)), 0f, g);
            if (s != last) {
                best = better(best, evaluate(w, off, len, s, zp, best.error));
                last = s;
            }
        }
        return best;
    }

    private Fit searchAffine(float[] w, int off, int len, float mx, float mn, int g, Fit best) {
        float lastScale = best.scale;
        int lastZp = best.zeroPoint;
        for (int a = 0; a <= AFFINE_STEPS; a++) {
            float top = (float) (mx * (1 - a * AFFINE_STEP));
            for (int b = 0; b <= AFFINE_STEPS; b++) {
                if (a == 0 && b == 0) {
                    continue; // the range fit, already evaluated
                }
                float bottom = (float) (mn * (1 - b * AFFINE_STEP));
                if (top == 0f && bottom == 0f) {
                    continue;
                }
                float s = grid.scale(top, bottom, g);
                int zp = grid.zeroPoint(top, bottom);
                if (s != lastScale || zp != lastZp) {
                    best = better(best, evaluate(w, off, len, s, zp, best.error));
                    lastScale = s;
                    lastZp = zp;
                }
            }
        }
        return best;
    }

    /** Least-squares scale, neighbouring FP16 scales, zero point ±1 (affine), until none improves. */
    private Fit descend(float[] w, int off, int len, Fit best) {
        for (int round = 0; round < MAX_DESCENT && best.error > 0; round++) {
            Fit start = best;
            float ls = leastSquaresScale(w, off, len, best.scale, best.zeroPoint);
            if (ls > 0f) {
                best = better(best, evaluate(w, off, len, ls, best.zeroPoint, best.error));
            }
            short h = Fp16.fromFloat(best.scale);
            if (h < 0x7bff) { // below FP16 max
                best = better(best, evaluate(w, off, len, Fp16.toFloat((short) (h + 1)), best.zeroPoint, best.error));
            }
            if (h > 1) { // above the smallest subnormal
                best = better(best, evaluate(w, off, len, Fp16.toFloat((short) (h - 1)), best.zeroPoint, best.error));
            }
            if (!grid.symmetric()) {
                if (best.zeroPoint < hi) {
                    best = better(best, evaluate(w, off, len, best.scale, best.zeroPoint + 1, best.error));
                }
                if (best.zeroPoint > lo) {
                    best = better(best, evaluate(w, off, len, best.scale, best.zeroPoint - 1, best.error));
                }
            }
            if (best == start) {
                break;
            }
        }
        return best;
    }

    /**
     * {@code Σ w·(q − zp) / Σ (q − zp)²} for the integers the current scale gives, rounded to
     * FP16; 0 when there is none (all integers at the zero point, or beyond FP16).
     */
    private float leastSquaresScale(float[] w, int off, int len, float scale, int zp) {
        double num = 0;
        double den = 0;
        for (int i = off; i < off + len; i++) {
            int d = quantizeOne(w[i], scale, zp) - zp;
            num += (double) w[i] * d;
            den += (double) d * d;
        }
        if (!(den > 0) || !(num > 0)) {
            return 0f;
        }
        float s = GroupScale.roundPositiveToFp16((float) (num / den));
        if (!(s <= Fp16.MAX_VALUE)) {
            return 0f;
        }
        return s == 0f ? GroupScale.MIN_FP16_SCALE : s;
    }

    private static Fit better(Fit best, Fit candidate) {
        return candidate.error < best.error ? candidate : best;
    }

    /**
     * Squared error of the group stored with {@code scale} and {@code zp}; stops (returning a
     * value {@code >= bound}) as soon as the partial sum reaches {@code bound}: such a candidate
     * cannot win.
     */
    private Fit evaluate(float[] w, int off, int len, float scale, int zp, double bound) {
        double e = 0;
        for (int i = off; i < off + len; i++) {
            float deq = scale * (quantizeOne(w[i], scale, zp) - zp); // QuantizedWeight.dequantize's arithmetic
            double d = w[i] - deq;
            e += d * d;
            if (e >= bound) {
                break;
            }
        }
        return new Fit(scale, zp, e);
    }

    /** The reference's {@code clip(rint(w / s) + zp)}. */
    private int quantizeOne(float v, float scale, int zp) {
        double t = Math.rint(v / scale) + zp;
        return (int) Math.max(lo, Math.min(hi, t));
    }
}
