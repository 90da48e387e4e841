package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightQuantizerTest {

    private static FloatTensor random(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) (r.nextGaussian() * 0.05);
        }
        return t;
    }

    private static int[] ints(QuantizedWeight w) {
        int[] out = new int[w.values().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = w.spec().type().signed() ? w.values()[i] : w.values()[i] & 0xff;
        }
        return out;
    }

    @Test
    void int4AffineCornerCaseMatchesCoremltools() {
        // COREML_FORMAT.md §5 golden case: [-2, -10, 6, -3] -> [-1, -8, 7, -2] (zp 1, scale 16/15).
        FloatTensor w = new FloatTensor(new int[] {1, 4}, new float[] {-2, -10, 6, -3});
        QuantSpec spec = new QuantSpec(QuantSpec.Kind.PER_CHANNEL, QuantType.INT8, QuantMode.AFFINE, 0, 0);
        assertThat(spec.label()).isEqualTo("int8-per-channel-affine");
        QuantizedWeight q4 = WeightQuantizer.quantize("w", new FloatTensor(new int[] {1, 32},
                padTo32(new float[] {-2, -10, 6, -3})), QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32).withMinElements(0));
        assertThat(ints(q4)).startsWith(-1, -8, 7, -2);
        assertThat(q4.zeroPoints()[0]).isEqualTo((byte) 1);
        assertThat(q4.scales()[0]).isEqualTo(Fp16.round(16f / 15f));
        assertThat(WeightQuantizer.quantize("w", w, spec).values()).isNotEmpty();
    }

    /** Keeps the block's range [-10, 6]: the padding zeros are inside it and do not change min/max. */
    private static float[] padTo32(float[] head) {
        float[] out = new float[32];
        System.arraycopy(head, 0, out, 0, head.length);
        return out;
    }

    @Test
    void symmetricInt8FollowsTheFormula() {
        FloatTensor w = random(1, 64, 256);
        QuantizedWeight q = WeightQuantizer.quantize("w", w, QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32));
        assertThat(q.scaleShape()).containsExactly(64, 8);
        assertThat(q.zeroPoints()).isNull();
        for (int g = 0; g < q.scales().length; g++) {
            float max = 0;
            for (int i = g * 32; i < g * 32 + 32; i++) {
                max = Math.max(max, Math.abs(w.data()[i]));
            }
            float s = Fp16.round(max / 127);
            assertThat(q.scales()[g]).isEqualTo(s);
            for (int i = g * 32; i < g * 32 + 32; i++) {
                long expected = Math.max(-127, Math.min(127, (long) Math.rint(w.data()[i] / s)));
                assertThat((int) q.values()[i]).isEqualTo((int) expected);
            }
        }
    }

    @Test
    void affineRoundTripErrorIsWithinHalfAStep() {
        for (QuantType type : QuantType.values()) {
            for (QuantMode mode : QuantMode.values()) {
                FloatTensor w = random(2, 48, 128);
                QuantizedWeight q = WeightQuantizer.quantize("w", w, QuantSpec.perBlock(type, mode, 64));
                float[] d = q.dequantize().data();
                for (int i = 0; i < d.length; i++) {
                    float s = q.scales()[i / 64];
                    // Affine: the rounded zero point can shift the grid by half a step, so an extreme
                    // value may clip by up to one step; symmetric loses at most half a step (+ FP16 scale rounding).
                    float bound = mode == QuantMode.AFFINE ? s : s * 0.51f;
                    assertThat(Math.abs(d[i] - w.data()[i])).as("%s %s at %d", type, mode, i)
                            .isLessThanOrEqualTo(bound + 1e-6f);
                }
                int[] v = ints(q);
                for (int x : v) {
                    assertThat(x).isBetween(type.min(), type.max());
                }
            }
        }
    }

    @Test
    void perChannelUint8UsesOneScalePerOutputChannel() {
        FloatTensor w = random(3, 32, 96);
        QuantizedWeight q = WeightQuantizer.quantize("w", w, QuantSpec.perChannel(QuantType.UINT8, QuantMode.AFFINE));
        assertThat(q.scaleShape()).containsExactly(32);
        assertThat(q.groupLength()).isEqualTo(96);
        assertThat(q.zeroPoints()).hasSize(32);
        QuantReport report = QuantReport.measure(w.data(), q, "");
        assertThat(report.sqnrDb()).isGreaterThan(35);
        assertThat(report.bytesAfter()).isEqualTo(32 * 96 + 2 * 32 + 32);
        assertThat(report.bytesBefore()).isEqualTo(4 * 32 * 96);
    }

    @Test
    void convWeightGetsFourDimensionalScales() {
        FloatTensor w = random(4, 16, 256, 1, 1);
        QuantizedWeight q = WeightQuantizer.quantize("conv", w, QuantSpec.perBlock(QuantType.INT4, QuantMode.SYMMETRIC, 128));
        assertThat(q.scaleShape()).containsExactly(16, 2, 1, 1);
        assertThat(q.packedValues()).hasSize(16 * 256 / 2);
        assertThat(q.storedBytes()).isEqualTo(16 * 128 + 2 * 32);
        // The general Core ML definition (scale broadcast by block) agrees with the fast group loop.
        int[] data = ints(q);
        float[] general = ShiftScale.dequantize(q.shape(), data, q.scaleShape(), q.scales(), null);
        assertThat(general).containsExactly(q.dequantize().data());
    }

    /**
     * A conv weight with a spatial kernel: its blocks are blockSize × kh × kw values, so encode's one-pass path
     * (blocks of blockSize values) must leave it to the two-pass one, with the same result as quantize + measure.
     */
    @Test
    void spatialConvWeightEncodesAsQuantizeAndMeasure() {
        FloatTensor w = random(9, 16, 32, 3, 3);
        QuantSpec spec = QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32);
        WeightQuantizer.Result r = WeightQuantizer.encode("conv3x3", w, spec);
        QuantizedWeight q = WeightQuantizer.quantize("conv3x3", w, spec);
        assertThat(((QuantizedWeight) r.weight()).values()).isEqualTo(q.values());
        assertThat(((QuantizedWeight) r.weight()).scaleShape()).containsExactly(16, 1, 1, 1);
        assertThat(r.report()).isEqualTo(QuantReport.measure(w.data(), q, ""));
    }

    @Test
    void allZeroBlocksDequantizeToExactZeros() {
        FloatTensor w = random(5, 8, 128);
        for (int i = 0; i < 128; i++) {
            w.data()[i] = 0; // first output channel
        }
        w.data()[200] = -0f;
        for (QuantMode mode : QuantMode.values()) {
            for (QuantType type : QuantType.values()) {
                QuantizedWeight q = WeightQuantizer.quantize("w", w, QuantSpec.perBlock(type, mode, 32));
                float[] d = q.dequantize().data();
                for (int i = 0; i < 128; i++) {
                    assertThat(d[i]).isEqualTo(0f);
                }
                assertThat(q.scales()[0]).isEqualTo(1f);
            }
        }
    }

    @Test
    void nonFiniteWeightsAreRejectedWithTensorAndIndex() {
        FloatTensor w = random(6, 16, 256);
        w.data()[3 * 256 + 82] = Float.NaN;
        assertThatThrownBy(() -> WeightQuantizer.encode("encoder.layer.0.attention.self.query.weight", w,
                QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32)))
                .isInstanceOf(QuantizationException.class)
                .hasMessageContaining("'encoder.layer.0.attention.self.query.weight'")
                .hasMessageContaining("non-finite value (NaN) at index [3, 82]");
        w.data()[3 * 256 + 82] = Float.POSITIVE_INFINITY;
        assertThatThrownBy(() -> WeightQuantizer.encode("x", w, QuantSpec.fp16()))
                .isInstanceOf(QuantizationException.class)
                .hasMessageContaining("non-finite value (Infinity) at index [3, 82]");
        w.data()[3 * 256 + 82] = 1e6f;
        assertThatThrownBy(() -> WeightQuantizer.encode("x", w, QuantSpec.fp16()))
                .isInstanceOf(QuantizationException.class)
                .hasMessageContaining("exceeds the FP16 range");
    }

    @Test
    void tensorsThatCannotTakeTheSchemeStayFp16WithAReason() {
        QuantSpec spec = QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32);
        WeightQuantizer.Result small = WeightQuantizer.encode("bias", random(7, 384), spec);
        assertThat(small.weight()).isInstanceOf(Fp16Weight.class);
        assertThat(small.report().note()).isEqualTo("kept FP16: 384 elements <= threshold 2048");
        WeightQuantizer.Result odd = WeightQuantizer.encode("w", random(8, 64, 100), spec);
        assertThat(odd.weight()).isInstanceOf(Fp16Weight.class);
        assertThat(odd.report().note()).isEqualTo("kept FP16: input axis 100 is not divisible by block size 32");
        assertThat(odd.report().scheme()).isEqualTo("fp16");
        WeightQuantizer.Result ok = WeightQuantizer.encode("w", random(9, 64, 128), spec);
        assertThat(ok.weight()).isInstanceOf(QuantizedWeight.class);
        assertThat(ok.report().scheme()).isEqualTo("int8-block32-symmetric");
        assertThat(ok.report().blockSize()).isEqualTo(32);
        assertThat(ok.report().sqnrDb()).isBetween(30.0, 60.0);
        assertThat(ok.report().bytesAfter()).isEqualTo(64 * 128 + 2 * 64 * 4);
    }

    @Test
    void fp16ReportIsExactForRepresentableValuesAndSmallOtherwise() {
        FloatTensor exact = new FloatTensor(new int[] {2, 2}, new float[] {1, 0.5f, -2, 0});
        QuantReport r = WeightQuantizer.encode("e", exact, QuantSpec.fp16()).report();
        assertThat(r.maxAbsError()).isZero();
        assertThat(r.sqnrDb()).isEqualTo(QuantReport.MAX_SQNR_DB);
        QuantReport r2 = WeightQuantizer.encode("r", random(10, 64, 64), QuantSpec.fp16()).report();
        assertThat(r2.sqnrDb()).isBetween(60.0, 80.0);
        assertThat(r2.bytesAfter() * 2).isEqualTo(r2.bytesBefore());
    }

    @Test
    void specRejectsBadCombinations() {
        assertThatThrownBy(() -> QuantSpec.perBlock(QuantType.INT8, QuantMode.AFFINE, 48))
                .hasMessage("block size must be one of 32, 64, 128, got 48");
        assertThatThrownBy(() -> QuantSpec.perChannel(QuantType.INT4, QuantMode.AFFINE))
                .hasMessageContaining("supports int8/uint8 only");
    }

    @Test
    void parallelAndSequentialQuantizationAgree() {
        FloatTensor w = random(11, 1536, 384);
        QuantSpec spec = QuantSpec.perBlock(QuantType.INT8, QuantMode.AFFINE, 32);
        int before = io.aneforge.kernels.Parallel.threads();
        try {
            io.aneforge.kernels.Parallel.setThreads(1);
            QuantizedWeight a = WeightQuantizer.quantize("w", w, spec);
            io.aneforge.kernels.Parallel.setThreads(3);
            QuantizedWeight b = WeightQuantizer.quantize("w", w, spec);
            assertThat(b.values()).isEqualTo(a.values());
            assertThat(b.scales()).isEqualTo(a.scales());
            assertThat(b.zeroPoints()).isEqualTo(a.zeroPoints());
        } finally {
            io.aneforge.kernels.Parallel.setThreads(before);
        }
    }
}
