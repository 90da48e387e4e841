package io.aneforge.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Normalization}'s softmax and layer norm over an axis followed by {@code inner} positions
 * (the ane layout: scores {@code (B, H, S_keys, S_queries)} over the keys, activations
 * {@code (B, C, 1, S)} over C) in vector lanes across the positions. Each lane does, for its
 * position, the float operations of the plain loops in the same order, so the results are the same
 * bits. The plain loops run over the 32 positions of a fidelity prediction, too short for C2's
 * unrolled vector loop, and so in its scalar post-loop. Reached from {@link Normalization} only
 * when {@link io.aneforge.vector.VectorPath#enabled()} and inner is a whole number of vectors.
 */
final class VectorNormalization {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorNormalization() {
    }

    static boolean fits(int inner) {
        return inner >= L && inner % L == 0;
    }

    /**
     * Layer norm of blocks {@code [from, to)} of {@code len · inner} floats: sum over the axis, one
     * division, squared deviations summed as a multiply then an add (never fused), {@code 1/sqrt} in
     * double, then {@code ((x − mean) · inv) · γ + β}. {@code mean} and {@code inv} are scratch arrays
     * of {@code inner} floats.
     */
    static void layerNorm(float[] in, float[] out, int len, int inner, float[] g, float[] b, float eps, int from, int to,
                          float[] mean, float[] inv) {
        for (int o = from; o < to; o++) {
            int base = o * len * inner;
            for (int j = 0; j < inner; j += L) {
                FloatVector sum = FloatVector.zero(S);
                for (int k = 0; k < len; k++) {
                    sum = sum.add(FloatVector.fromArray(S, in, base + k * inner + j));
                }
                FloatVector m = sum.div(len);
                m.intoArray(mean, j);
                FloatVector m2 = FloatVector.zero(S);
                for (int k = 0; k < len; k++) {
                    FloatVector d = FloatVector.fromArray(S, in, base + k * inner + j).sub(m);
                    m2 = m2.add(d.mul(d));
                }
                m2.intoArray(inv, j);
            }
            for (int j = 0; j < inner; j++) {
                inv[j] = (float) (1 / Math.sqrt(inv[j] / len + eps));
            }
            for (int k = 0; k < len; k++) {
                int row = base + k * inner;
                float gk = g == null ? 1f : g[k];
                float bk = b == null ? 0f : b[k];
                for (int j = 0; j < inner; j += L) {
                    FloatVector.fromArray(S, in, row + j).sub(FloatVector.fromArray(S, mean, j))
                            .mul(FloatVector.fromArray(S, inv, j)).mul(gk).add(bk).intoArray(out, row + j);
                }
            }
        }
    }

    /**
     * Softmax of blocks {@code [from, to)} of {@code len · inner} floats, as {@link Normalization#softmax}'s
     * plain loops: per position the max over the axis ({@code Math.max}, as the lanes' MAX), the shifted
     * values exponentiated by {@link FastExp} in blocks of {@code rowsPerBlock} axis rows, their float sum
     * in axis order, its reciprocal, the product. Scratch: {@code max} and {@code sum} of {@code inner}
     * floats, {@code e}, {@code m}, {@code f} of {@code rowsPerBlock · inner}.
     */
    static void softmax(float[] in, float[] out, int len, int inner, int rowsPerBlock, int from, int to,
                        float[] max, float[] sum, float[] e, float[] m, float[] f) {
        for (int o = from; o < to; o++) {
            int base = o * len * inner;
            for (int j = 0; j < inner; j += L) {
                FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                for (int k = 0; k < len; k++) {
                    mx = mx.max(FloatVector.fromArray(S, in, base + k * inner + j));
                }
                mx.intoArray(max, j);
            }
            java.util.Arrays.fill(sum, 0f);
            for (int k0 = 0; k0 < len; k0 += rowsPerBlock) {
                int rows = Math.min(rowsPerBlock, len - k0);
                for (int r = 0; r < rows; r++) {
                    int row = base + (k0 + r) * inner;
                    for (int j = 0; j < inner; j += L) {
                        FloatVector.fromArray(S, in, row + j).sub(FloatVector.fromArray(S, max, j)).intoArray(e, r * inner + j);
                    }
                }
                FastExp.expInPlace(e, rows * inner, m, f);
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < inner; j += L) {
                        FloatVector.fromArray(S, sum, j).add(FloatVector.fromArray(S, e, r * inner + j)).intoArray(sum, j);
                    }
                }
                System.arraycopy(e, 0, out, base + k0 * inner, rows * inner);
            }
            for (int j = 0; j < inner; j++) {
                sum[j] = 1f / sum[j];
            }
            for (int k = 0; k < len; k++) {
                int row = base + k * inner;
                for (int j = 0; j < inner; j += L) {
                    FloatVector.fromArray(S, out, row + j).mul(FloatVector.fromArray(S, sum, j)).intoArray(out, row + j);
                }
            }
        }
    }
}
