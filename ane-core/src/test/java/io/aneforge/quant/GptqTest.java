package io.aneforge.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.kernels.Parallel;
import io.aneforge.tensor.FloatTensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GptqTest {
    static final QuantSpec INT4 = QuantSpec.perBlock(QuantType.INT4, QuantMode.SYMMETRIC, 32)
            .withScaleFit(QuantSpec.ScaleFit.GPTQ);
    static final QuantSpec INT4_AFFINE = QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32)
            .withScaleFit(QuantSpec.ScaleFit.GPTQ);

    static FloatTensor weight(int outs, int ins, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[outs * ins];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.05);
        }
        return new FloatTensor(new int[] {outs, ins}, w);
    }

    /**
     * Inputs with strongly correlated features, tokens × features: 8 shared factors (the same mixing for every
     * seed, so calibration and held-out inputs come from one distribution) plus independent noise.
     */
    static float[][] correlatedInputs(int tokens, int features, long seed) {
        SplittableRandom mixing = new SplittableRandom(99);
        int factors = 8;
        double[][] mix = new double[factors][features];
        for (double[] m : mix) {
            for (int f = 0; f < features; f++) {
                m[f] = mixing.nextGaussian();
            }
        }
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[tokens][features];
        for (int t = 0; t < tokens; t++) {
            double[] z = new double[factors];
            for (int k = 0; k < factors; k++) {
                z[k] = r.nextGaussian();
            }
            for (int f = 0; f < features; f++) {
                double v = 0.5 * r.nextGaussian();
                for (int k = 0; k < factors; k++) {
                    v += z[k] * mix[k][f];
                }
                x[t][f] = (float) v;
            }
        }
        return x;
    }

    static InputGram gram(float[][] x) {
        int n = x[0].length;
        double[] s = new double[n * n];
        for (float[] row : x) {
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    s[a * n + b] += (double) row[a] * row[b];
                }
            }
        }
        float[] f = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            f[i] = (float) s[i];
        }
        return new InputGram(n, x.length, f);
    }

    /** Σ over tokens and outputs of (W x − Ŵ x)². */
    static double outputError(FloatTensor w, QuantizedWeight q, float[][] x) {
        int outs = w.shape()[0];
        int ins = w.shape()[1];
        float[] deq = new float[w.size()];
        q.dequantize(0, deq.length, deq);
        double e = 0;
        for (float[] row : x) {
            for (int o = 0; o < outs; o++) {
                double d = 0;
                for (int i = 0; i < ins; i++) {
                    d += (double) (w.data()[o * ins + i] - deq[o * ins + i]) * row[i];
                }
                e += d * d;
            }
        }
        return e;
    }

    @Test
    void uncorrelatedInputsGiveTheRangeFitBitForBit() {
        FloatTensor w = weight(48, 128, 1);
        float[] diag = new float[128 * 128];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 128; i++) {
            diag[i * 128 + i] = (float) (0.5 + r.nextDouble()); // uneven but diagonal: no column can cancel another's error
        }
        for (QuantSpec spec : new QuantSpec[] {INT4, INT4_AFFINE}) {
            QuantizedWeight g = Gptq.quantize("w", w, spec, new InputGram(128, 10, diag));
            QuantizedWeight range = WeightQuantizer.quantize("w", w, spec.withScaleFit(QuantSpec.ScaleFit.RANGE));
            assertThat(g.values()).isEqualTo(range.values());
            assertThat(g.scales()).isEqualTo(range.scales());
            assertThat(g.zeroPoints()).isEqualTo(range.zeroPoints());
            assertThat(g.scaleShape()).isEqualTo(range.scaleShape());
        }
    }

    @Test
    void theInverseFactorIsTheCholeskyFactorOfTheDampedInverse() {
        float[][] x = correlatedInputs(40, 24, 3); // fewer tokens than 8 factors + noise can fill: damping matters
        InputGram g = gram(x);
        int n = 24;
        double[] u = Gptq.inverseFactor(g);
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += g.sums()[i * n + i] / n;
        }
        // (UᵀU)(H + λI) = I
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertThat(u[i * n + j] == 0 || j >= i).as("upper triangular at %d,%d", i, j).isTrue();
                double p = 0;
                for (int k = 0; k < n; k++) {
                    double inv = 0;
                    for (int m = 0; m < n; m++) {
                        inv += u[m * n + i] * u[m * n + k];
                    }
                    p += inv * (g.sums()[k * n + j] + (k == j ? Gptq.DAMPING * mean : 0));
                }
                assertThat(p).as("(UᵀU)(H+λI) at %d,%d", i, j).isCloseTo(i == j ? 1 : 0, org.assertj.core.data.Offset.offset(1e-8));
            }
        }
    }

    @Test
    void correlatedInputsLowerTheOutputErrorAgainstRoundToNearest() {
        FloatTensor w = weight(64, 256, 4);
        float[][] calib = correlatedInputs(1024, 256, 5);
        float[][] held = correlatedInputs(256, 256, 6); // the same distribution, other samples
        for (QuantSpec spec : new QuantSpec[] {INT4, INT4_AFFINE}) {
            QuantizedWeight g = Gptq.quantize("w", w, spec, gram(calib));
            QuantizedWeight range = WeightQuantizer.quantize("w", w, spec.withScaleFit(QuantSpec.ScaleFit.RANGE));
            double gptq = outputError(w, g, held);
            double rtn = outputError(w, range, held);
            System.out.printf("%s: output error on held-out inputs %.4g GPTQ vs %.4g round to nearest (%.2fx)%n",
                    spec.label(), gptq, rtn, rtn / gptq);
            assertThat(gptq).as(spec.label()).isLessThan(0.25 * rtn); // measured ~10x lower
        }
    }

    @Test
    void onlyTheIntegersChangeTheScalesAreTheRangeFits() {
        FloatTensor w = weight(32, 128, 11);
        InputGram g = gram(correlatedInputs(300, 128, 12));
        for (QuantSpec spec : new QuantSpec[] {INT4, INT4_AFFINE}) {
            QuantizedWeight gptq = Gptq.quantize("w", w, spec, g);
            QuantizedWeight range = WeightQuantizer.quantize("w", w, spec.withScaleFit(QuantSpec.ScaleFit.RANGE));
            assertThat(gptq.scales()).isEqualTo(range.scales());
            assertThat(gptq.zeroPoints()).isEqualTo(range.zeroPoints());
            assertThat(gptq.values()).isNotEqualTo(range.values());
        }
    }

    @Test
    void inputsGoInOrderOfDecreasingEnergyTiesByIndex() {
        float[] h = new float[4 * 4];
        h[0] = 1f;
        h[5] = 3f;
        h[10] = 1f;
        h[15] = 2f;
        assertThat(Gptq.actOrder(new InputGram(4, 1, h))).containsExactly(1, 3, 0, 2);
    }

    @Test
    void sameBytesWhateverTheThreads() {
        FloatTensor w = weight(96, 384, 7);
        InputGram g = gram(correlatedInputs(300, 384, 8));
        int before = Parallel.threads();
        try {
            Parallel.setThreads(1);
            QuantizedWeight one = Gptq.quantize("w", w, INT4_AFFINE, g);
            Parallel.setThreads(3);
            QuantizedWeight three = Gptq.quantize("w", w, INT4_AFFINE, g);
            assertThat(three.values()).isEqualTo(one.values());
            assertThat(three.scales()).isEqualTo(one.scales());
            assertThat(three.zeroPoints()).isEqualTo(one.zeroPoints());
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void encodeFallsBackToTheRangeFitWhereNoCalibrationInputReachedAndSaysSo() {
        FloatTensor w = weight(64, 256, 9);
        WeightQuantizer.Result r = WeightQuantizer.encode("embeddings.word_embeddings.weight", w, INT4, null);
        QuantizedWeight range = WeightQuantizer.quantize("w", w, INT4.withScaleFit(QuantSpec.ScaleFit.RANGE));
        assertThat(((QuantizedWeight) r.weight()).values()).isEqualTo(range.values());
        assertThat(((QuantizedWeight) r.weight()).spec().scaleFit()).isEqualTo(QuantSpec.ScaleFit.RANGE);
        assertThat(r.report().note()).contains("no calibration inputs");
        assertThatThrownBy(() -> WeightQuantizer.quantize("w", w, INT4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("calibration");
    }

    @Test
    void rejectsStatisticsOfAnotherShapeAndNonFiniteWeights() {
        FloatTensor w = weight(8, 64, 10);
        assertThatThrownBy(() -> Gptq.quantize("w", w, INT4, new InputGram(32, 1, new float[32 * 32])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 features").hasMessageContaining("64 inputs");
        w.data()[70] = Float.NaN;
        float[] eye = new float[64 * 64];
        for (int i = 0; i < 64; i++) {
            eye[i * 64 + i] = 1;
        }
        assertThatThrownBy(() -> Gptq.quantize("w", w, INT4, new InputGram(64, 1, eye)))
                .isInstanceOf(QuantizationException.class).hasMessageContaining("non-finite").hasMessageContaining("[1, 6]");
        assertThatThrownBy(() -> QuantSpec.perChannel(QuantType.INT8, QuantMode.AFFINE).withScaleFit(QuantSpec.ScaleFit.GPTQ))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block-wise");
    }
}
