package io.aneforge.kernels;

import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The float-only exp against Math.exp, and the softmax/layer-norm row kernels that use it. */
class FastExpTest {

    @Test
    void relativeErrorBelowOneMillionthOnTheWholeSoftmaxRange() {
        double worst = 0;
        float worstAt = 0;
        int checked = 0;
        // Every float in [-1, 0] is too many; step by 7 ulps near 0 and by a fixed fraction further out.
        for (float x = 0f; x >= FastExp.MIN_ARG; ) {
            double e = Math.exp(x);
            double rel = Math.abs(FastExp.exp(x) - e) / e;
            if (rel > worst) {
                worst = rel;
                worstAt = x;
            }
            checked++;
            float next = x - Math.max(7 * Math.ulp(x), 1e-5f);
            x = next < x ? next : Math.nextDown(x);
        }
        assertThat(checked).isGreaterThan(4_000_000);
        assertThat(worst).as("worst relative error, at x = %s", worstAt).isLessThan(1e-6);
    }

    @Test
    void edgeCases() {
        assertThat(FastExp.exp(0f)).isEqualTo(1f);
        assertThat(FastExp.exp(-0f)).isEqualTo(1f);
        assertThat(FastExp.exp(Float.NEGATIVE_INFINITY)).isEqualTo(0f);
        assertThat(FastExp.exp(-1e4f)).isEqualTo(0f); // additive attention mask
        assertThat(FastExp.exp(-88f)).isEqualTo(0f); // below the smallest normal result: flushed
        assertThat(FastExp.exp(Math.nextUp(FastExp.MIN_ARG))).isGreaterThan(1.17e-38f);
        assertThat(FastExp.exp(Float.NaN)).isNaN();
        // every power of two the bit decomposition can produce: e^(-k·ln2) = 2^-k
        for (int k = 0; k <= 125; k++) {
            float x = (float) (-k * Math.log(2));
            assertThat((double) FastExp.exp(x)).as("2^-%d", k).isCloseTo(Math.exp(x), org.assertj.core.api.Assertions.offset(2e-7 * Math.exp(x)));
        }
    }

    @Test
    void arrayVersionIsBitIdenticalToTheScalarOne() {
        SplittableRandom r = new SplittableRandom(7);
        int n = 5000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 7) {
                case 0 -> -(float) r.nextDouble(0, 100);
                case 1 -> -(float) r.nextDouble(0, 1e-3);
                case 2 -> Float.NEGATIVE_INFINITY;
                case 3 -> (float) (-r.nextInt(127) * Math.log(2));
                default -> -(float) r.nextDouble(0, 20);
            };
        }
        float[] v = x.clone();
        FastExp.expInPlace(v, n, new float[n], new float[n]);
        for (int i = 0; i < n; i++) {
            assertThat(Float.floatToRawIntBits(v[i])).as("exp(%s)", x[i]).isEqualTo(Float.floatToRawIntBits(FastExp.exp(x[i])));
        }
    }

    @Test
    void lastAxisSoftmaxAndLayerNormMatchTheScalarKernels() {
        SplittableRandom r = new SplittableRandom(3);
        // rows of odd length, more rows than one chunk, a fully masked (-inf) row and a -1e4-masked tail
        int rows = 37;
        int len = 131;
        float[] d = new float[rows * len];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (r.nextGaussian() * 4);
        }
        for (int j = 100; j < len; j++) {
            d[5 * len + j] = -1e4f;
        }
        FloatTensor x = new FloatTensor(new int[]{rows, len}, d);
        float[] fast = Normalization.softmax(x, -1, true).data();
        float[] scalar = Normalization.softmax(x, -1, false).data();
        for (int i = 0; i < d.length; i++) {
            assertThat(fast[i]).as("softmax[%d]", i).isCloseTo(scalar[i], org.assertj.core.api.Assertions.within(1e-6f * Math.max(1e-3f, scalar[i])));
        }
        assertThat(fast[5 * len + 120]).isZero();
        FloatTensor gamma = new FloatTensor(new int[]{len}, randoms(r, len));
        FloatTensor beta = new FloatTensor(new int[]{len}, randoms(r, len));
        float[] lf = Normalization.layerNorm(x, new int[]{-1}, gamma, beta, 1e-5f, true).data();
        float[] ls = Normalization.layerNorm(x, new int[]{-1}, gamma, beta, 1e-5f, false).data();
        float[] lfNoAffine = Normalization.layerNorm(x, new int[]{-1}, null, null, 1e-5f, true).data();
        float[] lsNoAffine = Normalization.layerNorm(x, new int[]{-1}, null, null, 1e-5f, false).data();
        for (int i = 0; i < d.length; i++) {
            assertThat(lf[i]).as("layer_norm[%d]", i).isCloseTo(ls[i], org.assertj.core.api.Assertions.within(2e-5f * (1 + Math.abs(ls[i]))));
            assertThat(lfNoAffine[i]).isCloseTo(lsNoAffine[i], org.assertj.core.api.Assertions.within(2e-5f * (1 + Math.abs(lsNoAffine[i]))));
        }
    }

    private static float[] randoms(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
