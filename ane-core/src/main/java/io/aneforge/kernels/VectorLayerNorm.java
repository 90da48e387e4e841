package io.aneforge.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Normalization#layerNorm} over axes followed by {@code inner} positions (the ane layout's
 * {@code (B, C, 1, S)} normalized over C, inner = S) in vector lanes across the positions: each
 * lane does, for its position, the float operations of the plain loop in the same order (sum over
 * the axis, one division, squared deviations summed as a multiply then an add, never fused,
 * then {@code ((x − mean) · inv) · γ + β}), so the results are the same bits. The plain loops run
 * over the 32 positions of a fidelity prediction, too short for C2's unrolled vector loop, and
 * so in its scalar post-loop. Reached from {@link Normalization} only when
 * {@link io.aneforge.vector.VectorPath#enabled()} and inner is a whole number of vectors.
 */
final class VectorLayerNorm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorLayerNorm() {
    }

    static boolean fits(int inner) {
        return inner >= L && inner % L == 0;
    }

    /**
     * Blocks {@code [from, to)} of {@code len · inner} floats; {@code mean} and {@code inv} are scratch
     * arrays of {@code inner} floats.
     */
    static void blocks(float[] in, float[] out, int len, int inner, float[] g, float[] b, float eps, int from, int to,
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
}
