package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import io.aneforge.kernels.Parallel;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link QuantSpec.ScaleFit#MSE}: the clip search against the range fit it must never lose to. */
class ClipSearchTest {

    /**
     * Rows of different shapes, 8 blocks of 32 each: Gaussian; Gaussian with one large outlier
     * per block; all positive; all negative; tiny values near the FP16
     * subnormal scales; a block whose extreme is negative; uniform; a near-constant block.
     */
    private static FloatTensor mixed(long seed, int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int cols = 256;
        float[] w = new float[rows * cols];
        for (int o = 0; o < rows; o++) {
            int kind = o % 8;
            for (int i = 0; i < cols; i++) {
                double g = r.nextGaussian();
                double v = switch (kind) {
                    case 0 -> 0.05 * g;
                    case 1 -> i % 32 == 7 ? 0.6 * Math.signum(g) : 0.05 * g;
                    case 2 -> Math.abs(0.05 * g) + 0.01;
                    case 3 -> -Math.abs(0.05 * g) - 0.01;
                    case 4 -> 1e-6 * g;
                    case 5 -> i % 32 == 0 ? -0.4 : 0.05 * g;
                    case 6 -> r.nextDouble(-0.1, 0.1);
                    default -> 0.3 + 1e-4 * g;
                };
                w[o * cols + i] = (float) v;
            }
        }
        return new FloatTensor(new int[] {rows, cols}, w);
    }

    private static QuantSpec mse(QuantType type, QuantMode mode) {
        return QuantSpec.perBlock(type, mode, 32).withScaleFit(QuantSpec.ScaleFit.MSE);
    }

    /** Squared error of each group of the stored weights, as the device dequantizes them. */
    private static double[] groupErrors(float[] source, QuantizedWeight q) {
        float[] d = q.dequantize().data();
        int len = q.groupLength();
        double[] out = new double[q.scales().length];
        for (int i = 0; i < d.length; i++) {
            double e = source[i] - d[i];
            out[i / len] += e * e;
        }
        return out;
    }

    @Test
    void everyBlockHasAtMostTheErrorOfTheRangeFitAndGaussianBlocksLess() {
        FloatTensor w = mixed(1, 64);
        for (QuantType type : QuantType.values()) {
            for (QuantMode mode : QuantMode.values()) {
                QuantSpec range = QuantSpec.perBlock(type, mode, 32);
                double[] plain = groupErrors(w.data(), WeightQuantizer.quantize("w", w, range));
                double[] searched = groupErrors(w.data(), WeightQuantizer.quantize("w", w, mse(type, mode)));
                double plainSum = 0;
                double searchedSum = 0;
                double[] plainKind = new double[8];
                double[] searchedKind = new double[8];
                for (int g = 0; g < plain.length; g++) {
                    assertThat(searched[g]).as("%s %s block %d", type, mode, g).isLessThanOrEqualTo(plain[g]);
                    plainSum += plain[g];
                    searchedSum += searched[g];
                    plainKind[(g / 8) % 8] += plain[g];
                    searchedKind[(g / 8) % 8] += searched[g];
                }
                assertThat(searchedSum).as("%s %s total", type, mode).isLessThan(plainSum);
                if (type.bits() == 4) {
                    // Gaussian blocks: measured 0.79 of the range fit's error symmetric, 0.91 affine (seed 1).
                    assertThat(searchedKind[0] / plainKind[0]).as("%s %s Gaussian blocks", type, mode).isLessThan(0.95);
                }
            }
        }
    }

    @Test
    void resultDependsOnTheWeightsOnlyNotOnThreadsOrKernel() {
        FloatTensor w = mixed(2, 512);
        int before = Parallel.threads();
        try {
            for (QuantMode mode : QuantMode.values()) {
                QuantSpec spec = mse(QuantType.INT4, mode);
                Parallel.setThreads(1);
                QuantizedWeight a = WeightQuantizer.quantize("w", w, spec, WeightQuantizer.Kernel.REFERENCE);
                Parallel.setThreads(3);
                QuantizedWeight b = WeightQuantizer.quantize("w", w, spec, WeightQuantizer.Kernel.FAST);
                QuantizedWeight c = WeightQuantizer.quantize("w", w, spec);
                for (QuantizedWeight x : new QuantizedWeight[] {b, c}) {
                    assertThat(x.values()).isEqualTo(a.values());
                    assertThat(x.scales()).isEqualTo(a.scales());
                    assertThat(x.zeroPoints()).isEqualTo(a.zeroPoints());
                }
                // The first 64 rows alone give the same blocks: no state carried between groups.
                FloatTensor head = new FloatTensor(new int[] {64, 256}, java.util.Arrays.copyOf(w.data(), 64 * 256));
                QuantizedWeight h = WeightQuantizer.quantize("w", head, spec);
                assertThat(h.values()).isEqualTo(java.util.Arrays.copyOf(a.values(), 64 * 256));
                assertThat(h.scales()).isEqualTo(java.util.Arrays.copyOf(a.scales(), 64 * 8));
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void storedFormStaysWhatTheModeNames() {
        FloatTensor w = mixed(3, 64);
        QuantizedWeight sym = WeightQuantizer.quantize("w", w, mse(QuantType.INT4, QuantMode.SYMMETRIC));
        assertThat(sym.zeroPoints()).as("symmetric is scale-only").isNull();
        int lowest = 0;
        for (byte v : sym.values()) {
            assertThat((int) v).isBetween(-8, 7);
            lowest = Math.min(lowest, v);
        }
        // Blocks whose extreme is negative use the lowest code, which the range fit (±7) never does.
        assertThat(lowest).isEqualTo(-8);
        QuantizedWeight uns = WeightQuantizer.quantize("w", w, mse(QuantType.UINT4, QuantMode.SYMMETRIC));
        for (byte z : uns.zeroPoints()) {
            assertThat((int) z).isEqualTo(8);
        }
        QuantizedWeight aff = WeightQuantizer.quantize("w", w, mse(QuantType.INT4, QuantMode.AFFINE));
        for (int g = 0; g < aff.scales().length; g++) {
            assertThat(Fp16.round(aff.scales()[g])).isEqualTo(aff.scales()[g]);
            assertThat(aff.scales()[g]).isPositive();
            assertThat((int) aff.zeroPoints()[g]).isBetween(-8, 7);
        }
        assertThat(sym.spec().label()).isEqualTo("int4-block32-symmetric-mse");
        assertThat(aff.spec().label()).isEqualTo("int4-block32-affine-mse");
    }

    @Test
    void allZeroBlocksAreStoredExactlyAsByTheRangeFit() {
        FloatTensor w = mixed(4, 8);
        java.util.Arrays.fill(w.data(), 0, 256, 0f); // first output channel
        w.data()[40] = -0f;
        for (QuantMode mode : QuantMode.values()) {
            for (QuantType type : QuantType.values()) {
                QuantizedWeight range = WeightQuantizer.quantize("w", w, QuantSpec.perBlock(type, mode, 32));
                QuantizedWeight searched = WeightQuantizer.quantize("w", w, mse(type, mode));
                float[] d = searched.dequantize().data();
                for (int g = 0; g < 8; g++) {
                    assertThat(searched.scales()[g]).isEqualTo(1f).isEqualTo(range.scales()[g]);
                    if (range.zeroPoints() != null) {
                        assertThat(searched.zeroPoints()[g]).isEqualTo(range.zeroPoints()[g]);
                    }
                }
                for (int i = 0; i < 256; i++) {
                    assertThat(d[i]).isEqualTo(0f);
                    assertThat(searched.values()[i]).isEqualTo(range.values()[i]);
                }
            }
        }
    }

    @Test
    void nonFiniteAndOversizedWeightsFailAsWithTheRangeFit() {
        FloatTensor w = mixed(5, 16);
        for (QuantMode mode : QuantMode.values()) {
            w.data()[3 * 256 + 82] = Float.NaN;
            assertThatThrownBy(() -> WeightQuantizer.encode("encoder.layer.0.attention.self.query.weight", w,
                    mse(QuantType.INT4, mode)))
                    .isInstanceOf(QuantizationException.class)
                    .hasMessageContaining("'encoder.layer.0.attention.self.query.weight'")
                    .hasMessageContaining("non-finite value (NaN) at index [3, 82]");
            w.data()[3 * 256 + 82] = Float.NEGATIVE_INFINITY;
            assertThatThrownBy(() -> WeightQuantizer.quantize("x", w, mse(QuantType.INT8, mode)))
                    .isInstanceOf(QuantizationException.class)
                    .hasMessageContaining("non-finite value (-Infinity) at index [3, 82]");
            // A scale beyond FP16: refused by the range fit's check, which the search runs first.
            w.data()[3 * 256 + 82] = 1e9f;
            String expected = messageOf(() -> WeightQuantizer.quantize("x", w, QuantSpec.perBlock(QuantType.INT4, mode, 32)));
            assertThat(expected).contains("beyond FP16");
            assertThat(messageOf(() -> WeightQuantizer.quantize("x", w, mse(QuantType.INT4, mode)))).isEqualTo(expected);
            w.data()[3 * 256 + 82] = 0f;
        }
    }

    private static String messageOf(Runnable r) {
        try {
            r.run();
        } catch (QuantizationException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected a QuantizationException");
    }

    @Test
    void reportMeasuresTheStoredWeights() {
        FloatTensor w = mixed(6, 64);
        for (QuantMode mode : QuantMode.values()) {
            WeightQuantizer.Result plain = WeightQuantizer.encode("w", w, QuantSpec.perBlock(QuantType.INT4, mode, 32));
            WeightQuantizer.Result searched = WeightQuantizer.encode("w", w, mse(QuantType.INT4, mode));
            QuantizedWeight q = (QuantizedWeight) searched.weight();
            float[] d = q.dequantize().data();
            double max = 0;
            double signal = 0;
            double noise = 0;
            for (int i = 0; i < d.length; i++) {
                double e = (double) w.data()[i] - d[i];
                max = Math.max(max, Math.abs(e));
                signal += (double) w.data()[i] * w.data()[i];
                noise += e * e;
            }
            assertThat(searched.report().scheme()).isEqualTo("int4-block32-" + mode.name().toLowerCase() + "-mse");
            assertThat(searched.report().maxAbsError()).isEqualTo(max);
            // the report sums in float chains folded into doubles (QuantReport): close to the double sums, not equal
            assertThat(searched.report().sqnrDb()).isCloseTo(10 * Math.log10(signal / noise), org.assertj.core.data.Offset.offset(1e-5));
            assertThat(searched.report().sqnrDb()).isGreaterThan(plain.report().sqnrDb());
            assertThat(searched.report().bytesAfter()).isEqualTo(plain.report().bytesAfter());
        }
    }

    @Test
    void perChannelGroupsCanBeSearchedToo() {
        FloatTensor w = mixed(7, 16);
        QuantSpec range = QuantSpec.perChannel(QuantType.INT8, QuantMode.AFFINE);
        double[] plain = groupErrors(w.data(), WeightQuantizer.quantize("w", w, range));
        double[] searched = groupErrors(w.data(),
                WeightQuantizer.quantize("w", w, range.withScaleFit(QuantSpec.ScaleFit.MSE)));
        for (int g = 0; g < plain.length; g++) {
            assertThat(searched[g]).isLessThanOrEqualTo(plain[g]);
        }
        assertThat(range.withScaleFit(QuantSpec.ScaleFit.MSE).label()).isEqualTo("int8-per-channel-affine-mse");
    }

    @Test
    void specKeepsTheRangeFitByDefaultAndRefusesAnMseFp16() {
        assertThat(QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32).scaleFit()).isEqualTo(QuantSpec.ScaleFit.RANGE);
        assertThat(QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32).label()).isEqualTo("int4-block32-affine");
        assertThat(QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32).withMinElements(0).withScaleFit(QuantSpec.ScaleFit.MSE)
                .withMinElements(5).scaleFit()).isEqualTo(QuantSpec.ScaleFit.MSE);
        assertThatThrownBy(() -> QuantSpec.fp16().withScaleFit(QuantSpec.ScaleFit.MSE))
                .hasMessageContaining("fp16 has no scales to fit");
        assertThatThrownBy(() -> QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32).withScaleFit(null))
                .hasMessageContaining("scale fit is required");
    }
}
