package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;
import io.aneforge.vector.VectorPath;

import java.util.Arrays;

/**
 * Softmax and layer normalization. A tensor is viewed as {@code [outer, len, inner]} around
 * the reduced axes; the scalar versions reduce one (outer, inner) line at a time in double,
 * the fast versions work on whole {@code inner}-long rows (contiguous, so the JIT vectorizes
 * them; this is the {@code (B, C, 1, S)} ANE layout with axis 1) and split {@code outer}
 * over threads.
 */
public final class Normalization {

    private Normalization() {
    }

    /** Numerically stable softmax along {@code axis}: exp(x − max) / Σ exp(x − max). */
    public static FloatTensor softmax(FloatTensor x, int axis) {
        return softmax(x, axis, Kernels.isFast());
    }

    public static FloatTensor softmax(FloatTensor x, int axis, boolean fast) {
        int[] s = x.shape();
        int ax = Shapes.axis(axis, s.length, "softmax");
        int outer = Shapes.product(s, 0, ax);
        int len = s[ax];
        int inner = Shapes.product(s, ax + 1, s.length);
        float[] in = x.data();
        float[] out = new float[in.length];
        if (!fast) {
            for (int o = 0; o < outer; o++) {
                for (int j = 0; j < inner; j++) {
                    int base = o * len * inner + j;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < len; k++) {
                        max = Math.max(max, in[base + k * inner]);
                    }
                    double sum = 0;
                    for (int k = 0; k < len; k++) {
                        double e = Math.exp(in[base + k * inner] - max);
                        out[base + k * inner] = (float) e;
                        sum += e;
                    }
                    for (int k = 0; k < len; k++) {
                        out[base + k * inner] = (float) (out[base + k * inner] / sum);
                    }
                }
            }
            return new FloatTensor(s.clone(), out);
        }
        if (inner == 1) {
            Parallel.forRange(outer, Math.max(1, (1 << 14) / Math.max(1, len)), (from, to) -> softmaxRows(in, out, len, from, to));
            return new FloatTensor(s.clone(), out);
        }
        // The axis is not the last (the ane layout's (B, H, S_keys, S_queries) scores, inner = queries):
        // for each of the `inner` columns, max over the axis, then e^(x − max) in blocks of whole axis rows
        // of about CHUNK floats, then the sums over the axis in axis order, then the scaling. Exponentiating
        // one axis row (`inner` floats) per call left rows of 32 to C2's scalar post-loop (its vector loop is
        // unrolled to 64 floats and more), where FastExp costs ~10 ns per float; a block of rows is one
        // flat loop. Same operations on the same values in the same order either way.
        int rowsPerBlock = Math.max(1, CHUNK / Math.max(1, inner));
        int cap = Math.min(len, rowsPerBlock) * inner;
        Parallel.forRange(outer, Math.max(1, (1 << 14) / Math.max(1, len * inner)), (from, to) -> {
            float[] max = new float[inner];
            float[] sum = new float[inner];
            float[] e = new float[cap];
            float[] m = new float[cap];
            float[] f = new float[cap];
            if (VectorPath.enabled() && VectorNormalization.fits(inner)) {
                VectorNormalization.softmax(in, out, len, inner, rowsPerBlock, from, to, max, sum, e, m, f);
                return;
            }
            for (int o = from; o < to; o++) {
                int base = o * len * inner;
                Arrays.fill(max, Float.NEGATIVE_INFINITY);
                Arrays.fill(sum, 0f);
                for (int k = 0; k < len; k++) {
                    int row = base + k * inner;
                    for (int j = 0; j < inner; j++) {
                        max[j] = Math.max(max[j], in[row + j]);
                    }
                }
                for (int k0 = 0; k0 < len; k0 += rowsPerBlock) {
                    int rows = Math.min(rowsPerBlock, len - k0);
                    for (int r = 0; r < rows; r++) {
                        int row = base + (k0 + r) * inner;
                        int eo = r * inner;
                        for (int j = 0; j < inner; j++) {
                            e[eo + j] = in[row + j] - max[j];
                        }
                    }
                    FastExp.expInPlace(e, rows * inner, m, f);
                    for (int r = 0; r < rows; r++) {
                        int eo = r * inner;
                        for (int j = 0; j < inner; j++) {
                            sum[j] += e[eo + j];
                        }
                    }
                    System.arraycopy(e, 0, out, base + k0 * inner, rows * inner);
                }
                for (int j = 0; j < inner; j++) {
                    sum[j] = 1f / sum[j];
                }
                for (int k = 0; k < len; k++) {
                    int row = base + k * inner;
                    for (int j = 0; j < inner; j++) {
                        out[row + j] *= sum[j];
                    }
                }
            }
        });
        return new FloatTensor(s.clone(), out);
    }

    /** Rows per chunk of the last-axis kernels: their scratch arrays stay in L1. */
    private static final int CHUNK = 2048;

    /**
     * Softmax over contiguous rows {@code [from, to)} of length {@code len} (the last axis,
     * the standard {@code (B, H, S, S)} attention layout). A chunk of rows is shifted by each
     * row's max in one flat loop, exponentiated by {@link FastExp} in flat loops (C2
     * vectorizes a loop only when every array in it is indexed by the bare loop counter, hence
     * the per-element row constants instead of per-row offsets), summed per row with four
     * partial sums (a single float chain is latency-bound) and scaled by the reciprocal.
     */
    private static void softmaxRows(float[] in, float[] out, int len, int from, int to) {
        int rowsPerChunk = Math.max(1, CHUNK / Math.max(1, len));
        int cap = rowsPerChunk * len;
        float[] v = new float[cap];
        float[] c = new float[cap];
        float[] m = new float[cap];
        float[] f = new float[cap];
        for (int r0 = from; r0 < to; r0 += rowsPerChunk) {
            int rows = Math.min(rowsPerChunk, to - r0);
            int n = rows * len;
            System.arraycopy(in, r0 * len, v, 0, n);
            for (int r = 0; r < rows; r++) {
                java.util.Arrays.fill(c, r * len, (r + 1) * len, rowMax(v, r * len, len));
            }
            subtract(v, c, n);
            FastExp.expInPlace(v, n, m, f);
            for (int r = 0; r < rows; r++) {
                java.util.Arrays.fill(c, r * len, (r + 1) * len, 1f / rowSum(v, r * len, len));
            }
            multiply(v, c, n);
            System.arraycopy(v, 0, out, r0 * len, n);
        }
    }

    private static void subtract(float[] v, float[] c, int n) {
        for (int i = 0; i < n; i++) {
            v[i] -= c[i];
        }
    }

    private static void multiply(float[] v, float[] c, int n) {
        for (int i = 0; i < n; i++) {
            v[i] *= c[i];
        }
    }

    /** Max of {@code v[off, off + len)}, four independent chains; NaN propagates (Math.max). */
    private static float rowMax(float[] v, int off, int len) {
        float m0 = Float.NEGATIVE_INFINITY;
        float m1 = m0;
        float m2 = m0;
        float m3 = m0;
        int i = off;
        int end = off + len;
        for (; i + 4 <= end; i += 4) {
            m0 = Math.max(m0, v[i]);
            m1 = Math.max(m1, v[i + 1]);
            m2 = Math.max(m2, v[i + 2]);
            m3 = Math.max(m3, v[i + 3]);
        }
        for (; i < end; i++) {
            m0 = Math.max(m0, v[i]);
        }
        return Math.max(Math.max(m0, m1), Math.max(m2, m3));
    }

    /** Sum of {@code v[off, off + len)} in four partial sums. */
    private static float rowSum(float[] v, int off, int len) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = off;
        int end = off + len;
        for (; i + 4 <= end; i += 4) {
            s0 += v[i];
            s1 += v[i + 1];
            s2 += v[i + 2];
            s3 += v[i + 3];
        }
        for (; i < end; i++) {
            s0 += v[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Sum of {@code (v[i] − mean)²} over {@code [off, off + len)} in four partial sums. */
    private static float rowSquares(float[] v, int off, int len, float mean) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = off;
        int end = off + len;
        for (; i + 4 <= end; i += 4) {
            float d0 = v[i] - mean;
            float d1 = v[i + 1] - mean;
            float d2 = v[i + 2] - mean;
            float d3 = v[i + 3] - mean;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; i < end; i++) {
            float d = v[i] - mean;
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Layer norm over contiguous rows of length {@code len} (the last axis, standard layout):
     * mean and variance per row in partial sums, then one flat loop over a row copy with the
     * gamma/beta arrays indexed alike (so it vectorizes).
     */
    private static void layerNormRows(float[] in, float[] out, int len, float[] g, float[] b, float eps, int from, int to) {
        float[] t = new float[len];
        float[] gg = g != null ? g : filled(len, 1f);
        float[] bb = b != null ? b : new float[len];
        for (int r = from; r < to; r++) {
            int row = r * len;
            float mean = rowSum(in, row, len) / len;
            float inv = (float) (1 / Math.sqrt(rowSquares(in, row, len, mean) / len + eps));
            System.arraycopy(in, row, t, 0, len);
            normalize(t, gg, bb, len, mean, inv);
            System.arraycopy(t, 0, out, row, len);
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static void normalize(float[] t, float[] g, float[] b, int n, float mean, float inv) {
        for (int j = 0; j < n; j++) {
            t[j] = (t[j] - mean) * inv * g[j] + b[j];
        }
    }

    /**
     * MIL {@code layer_norm}: {@code (x − mean) / sqrt(var + eps) · gamma + beta} over
     * {@code axes}, which must be contiguous (e.g. {@code [-1]}, or {@code [1]} for
     * {@code (B, C, 1, S)}); {@code gamma}/{@code beta} hold one value per normalized
     * position (the shape of those axes), or are null (1 and 0). Variance is biased (÷ n).
     */
    public static FloatTensor layerNorm(FloatTensor x, int[] axes, FloatTensor gamma, FloatTensor beta, float eps) {
        return layerNorm(x, axes, gamma, beta, eps, Kernels.isFast());
    }

    public static FloatTensor layerNorm(FloatTensor x, int[] axes, FloatTensor gamma, FloatTensor beta, float eps,
                                        boolean fast) {
        int[] s = x.shape();
        if (axes.length == 0) {
            throw new IllegalArgumentException("layer_norm: axes must not be empty");
        }
        int[] norm = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            norm[i] = Shapes.axis(axes[i], s.length, "layer_norm");
        }
        Arrays.sort(norm);
        for (int i = 1; i < norm.length; i++) {
            if (norm[i] != norm[i - 1] + 1) {
                throw new IllegalArgumentException("layer_norm: axes " + Arrays.toString(axes) + " of shape "
                        + x.shapeString() + " are not contiguous; transpose them next to each other first");
            }
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("layer_norm: epsilon must be >= 0, got " + eps);
        }
        int outer = Shapes.product(s, 0, norm[0]);
        int len = Shapes.product(s, norm[0], norm[norm.length - 1] + 1);
        int inner = Shapes.product(s, norm[norm.length - 1] + 1, s.length);
        for (FloatTensor p : new FloatTensor[] {gamma, beta}) {
            if (p != null && p.size() != len) {
                throw new IllegalArgumentException("layer_norm: gamma/beta " + p.shapeString() + " must hold " + len
                        + " values (the normalized axes of " + x.shapeString() + ")");
            }
        }
        float[] in = x.data();
        float[] out = new float[in.length];
        float[] g = gamma == null ? null : gamma.data();
        float[] b = beta == null ? null : beta.data();
        if (!fast) {
            for (int o = 0; o < outer; o++) {
                for (int j = 0; j < inner; j++) {
                    int base = o * len * inner + j;
                    double mean = 0;
                    for (int k = 0; k < len; k++) {
                        mean += in[base + k * inner];
                    }
                    mean /= len;
                    double var = 0;
                    for (int k = 0; k < len; k++) {
                        double d = in[base + k * inner] - mean;
                        var += d * d;
                    }
                    var /= len;
                    double inv = 1 / Math.sqrt(var + eps);
                    for (int k = 0; k < len; k++) {
                        double v = (in[base + k * inner] - mean) * inv;
                        out[base + k * inner] = (float) (v * (g == null ? 1 : g[k]) + (b == null ? 0 : b[k]));
                    }
                }
            }
            return new FloatTensor(s.clone(), out);
        }
        if (inner == 1) {
            Parallel.forRange(outer, Math.max(1, (1 << 14) / Math.max(1, len)),
                    (from, to) -> layerNormRows(in, out, len, g, b, eps, from, to));
            return new FloatTensor(s.clone(), out);
        }
        if (VectorPath.enabled() && VectorNormalization.fits(inner)) {
            Parallel.forRange(outer, Math.max(1, (1 << 14) / Math.max(1, len * inner)),
                    (from, to) -> VectorNormalization.layerNorm(in, out, len, inner, g, b, eps, from, to, new float[inner], new float[inner]));
            return new FloatTensor(s.clone(), out);
        }
        Parallel.forRange(outer, Math.max(1, (1 << 14) / Math.max(1, len * inner)), (from, to) -> {
            float[] mean = new float[inner];
            float[] m2 = new float[inner];
            for (int o = from; o < to; o++) {
                int base = o * len * inner;
                Arrays.fill(mean, 0f);
                Arrays.fill(m2, 0f);
                for (int k = 0; k < len; k++) {
                    int row = base + k * inner;
                    for (int j = 0; j < inner; j++) {
                        mean[j] += in[row + j];
                    }
                }
                for (int j = 0; j < inner; j++) {
                    mean[j] /= len;
                }
                for (int k = 0; k < len; k++) {
                    int row = base + k * inner;
                    for (int j = 0; j < inner; j++) {
                        float d = in[row + j] - mean[j];
                        m2[j] += d * d;
                    }
                }
                for (int j = 0; j < inner; j++) {
                    m2[j] = (float) (1 / Math.sqrt(m2[j] / len + eps));
                }
                for (int k = 0; k < len; k++) {
                    int row = base + k * inner;
                    float gk = g == null ? 1f : g[k];
                    float bk = b == null ? 0f : b[k];
                    for (int j = 0; j < inner; j++) {
                        out[row + j] = (in[row + j] - mean[j]) * m2[j] * gk + bk;
                    }
                }
            }
        });
        return new FloatTensor(s.clone(), out);
    }
}
