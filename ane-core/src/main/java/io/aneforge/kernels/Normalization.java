package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;

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
        Parallel.forRange(outer, Math.max(1, (1 << 14) / Math.max(1, len * inner)), (from, to) -> {
            float[] max = new float[inner];
            float[] sum = new float[inner];
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
                for (int k = 0; k < len; k++) {
                    int row = base + k * inner;
                    for (int j = 0; j < inner; j++) {
                        float e = (float) Math.exp(in[row + j] - max[j]);
                        out[row + j] = e;
                        sum[j] += e;
                    }
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
