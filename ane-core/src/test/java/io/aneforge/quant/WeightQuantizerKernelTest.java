package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import io.aneforge.kernels.Parallel;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fast block kernel must reproduce the scalar reference bit for bit. */
class WeightQuantizerKernelTest {

    /**
     * Gaussian weights with planted hard cases: all-zero blocks (±0), blocks whose extreme is
     * negative or positive, large and tiny magnitudes (scale near the FP16 subnormal floor),
     * exact halfway points {@code (k + ½)·scale} and single spikes.
     */
    private static FloatTensor hardWeights(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        FloatTensor t = FloatTensor.zeros(shape);
        float[] d = t.data();
        int block = 32;
        for (int b0 = 0; b0 < d.length; b0 += block) {
            int kind = r.nextInt(9);
            for (int i = b0; i < Math.min(d.length, b0 + block); i++) {
                float g = (float) r.nextGaussian();
                d[i] = switch (kind) {
                    case 0 -> r.nextBoolean() ? 0f : -0f;
                    case 1 -> -Math.abs(g) * 3f;
                    case 2 -> Math.abs(g) * 3f;
                    case 3 -> g * 1000f;
                    case 4 -> g * 1e-7f;
                    case 5 -> g * 1e-30f;
                    case 6 -> i == b0 + 7 ? -40f : g * 0.01f;
                    default -> g * 0.05f;
                };
            }
            if (kind == 7 && b0 + block <= d.length) {
                // Halfway points for the symmetric int8 scale this block gets: max 1.27 -> scale fp16(0.01).
                float s = Fp16.round(1.27f / 127);
                d[b0] = 1.27f;
                for (int i = b0 + 1; i < b0 + block; i++) {
                    d[i] = (r.nextInt(200) - 100 + 0.5f) * s;
                }
            }
        }
        return t;
    }

    private static void assertSame(QuantizedWeight fast, QuantizedWeight ref, String what) {
        assertThat(fast.values()).as("values " + what).isEqualTo(ref.values());
        assertThat(fast.scales()).as("scales " + what).isEqualTo(ref.scales());
        assertThat(fast.zeroPoints()).as("zero points " + what).isEqualTo(ref.zeroPoints());
        assertThat(fast.scaleShape()).as("scale shape " + what).isEqualTo(ref.scaleShape());
    }

    @Test
    void fastKernelEqualsReferenceForEveryTypeModeAndBlockSize() {
        int before = Parallel.threads();
        try {
            long seed = 100;
            // 37 rows: the groups do not fill the last chunk, and two threads split unevenly.
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                for (int block : new int[] {32, 64, 128}) {
                    FloatTensor w = hardWeights(seed++, 37, 384);
                    for (QuantType type : QuantType.values()) {
                        for (QuantMode mode : QuantMode.values()) {
                            QuantSpec spec = QuantSpec.perBlock(type, mode, block);
                            String what = spec.label() + " threads=" + threads;
                            assertSame(WeightQuantizer.quantize("w", w, spec, WeightQuantizer.Kernel.FAST),
                                    WeightQuantizer.quantize("w", w, spec, WeightQuantizer.Kernel.REFERENCE), what);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void fastKernelEqualsReferenceOnLargeAndConvWeights() {
        FloatTensor big = hardWeights(7, 1536, 384); // spans many chunks and a parallel split
        QuantSpec spec = QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32);
        assertSame(WeightQuantizer.quantize("w", big, spec, WeightQuantizer.Kernel.FAST),
                WeightQuantizer.quantize("w", big, spec, WeightQuantizer.Kernel.REFERENCE), "1536x384");
        // conv [O, I, 1, 1]: group = block · kH · kW elements
        FloatTensor conv = hardWeights(8, 24, 256, 1, 1);
        QuantSpec affine4 = QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 64);
        assertSame(WeightQuantizer.quantize("c", conv, affine4, WeightQuantizer.Kernel.FAST),
                WeightQuantizer.quantize("c", conv, affine4, WeightQuantizer.Kernel.REFERENCE), "conv");
        // [O, I, 3, 3]: groups of 288 are not a power of two, so FAST scans each group's range.
        FloatTensor conv3 = hardWeights(9, 8, 64, 3, 3);
        for (QuantMode mode : QuantMode.values()) {
            QuantSpec spec8 = QuantSpec.perBlock(QuantType.UINT8, mode, 32);
            assertSame(WeightQuantizer.quantize("c3", conv3, spec8, WeightQuantizer.Kernel.FAST),
                    WeightQuantizer.quantize("c3", conv3, spec8, WeightQuantizer.Kernel.REFERENCE), "conv3x3 " + mode);
        }
    }

    @Test
    void fastKernelEqualsReferencePerChannel() {
        // Rows of 384 (several per chunk), 2050 (one per chunk, odd tail) and 5000 (longer than a chunk).
        for (int in : new int[] {384, 2050, 5000}) {
            FloatTensor w = hardWeights(in, 24, in);
            for (QuantType type : new QuantType[] {QuantType.INT8, QuantType.UINT8}) {
                for (QuantMode mode : QuantMode.values()) {
                    QuantSpec spec = QuantSpec.perChannel(type, mode);
                    assertSame(WeightQuantizer.quantize("p", w, spec, WeightQuantizer.Kernel.FAST),
                            WeightQuantizer.quantize("p", w, spec, WeightQuantizer.Kernel.REFERENCE),
                            spec.label() + " I=" + in);
                }
            }
        }
    }

    @Test
    void referenceRoundsHalfwayPointsToEven() {
        float s = Fp16.round(1.27f / 127);
        float[] d = new float[32];
        d[0] = 1.27f;
        d[1] = 2.5f * s;
        d[2] = -2.5f * s;
        d[3] = 3.5f * s;
        d[4] = 126.5f * s; // below the max, rounds to 126
        FloatTensor w = new FloatTensor(new int[] {1, 32}, d);
        QuantSpec spec = QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32).withMinElements(0);
        for (WeightQuantizer.Kernel kernel : WeightQuantizer.Kernel.values()) {
            QuantizedWeight q = WeightQuantizer.quantize("w", w, spec, kernel);
            assertThat(q.scales()[0]).isEqualTo(s);
            assertThat(q.values()).as(kernel.name()).startsWith((byte) 127, (byte) 2, (byte) -2, (byte) 4, (byte) 126);
        }
    }

    @Test
    void bothKernelsReportTheSameNonFiniteWeight() {
        for (QuantMode mode : QuantMode.values()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                FloatTensor w = hardWeights(3, 64, 256);
                w.data()[40 * 256 + 77] = bad;
                for (QuantSpec spec : new QuantSpec[] {QuantSpec.perBlock(QuantType.INT8, mode, 32),
                        QuantSpec.perChannel(QuantType.INT8, mode)}) {
                    for (WeightQuantizer.Kernel kernel : WeightQuantizer.Kernel.values()) {
                        assertThatThrownBy(() -> WeightQuantizer.quantize("layer.w", w, spec, kernel))
                                .as(kernel + " " + spec.label() + " " + bad)
                                .isInstanceOf(QuantizationException.class)
                                .hasMessageContaining("'layer.w' has a non-finite value (" + bad + ") at index [40, 77]");
                    }
                }
            }
        }
    }

    @Test
    void bothKernelsRejectAScaleBeyondFp16() {
        FloatTensor w = hardWeights(4, 16, 128);
        w.data()[5 * 128 + 70] = -1e7f; // block 5·4 + 2 = 22 needs scale 78740
        QuantSpec spec = QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32);
        for (WeightQuantizer.Kernel kernel : WeightQuantizer.Kernel.values()) {
            assertThatThrownBy(() -> WeightQuantizer.quantize("big", w, spec, kernel))
                    .isInstanceOf(QuantizationException.class)
                    .hasMessage("weight tensor 'big' block 22 needs scale " + 1e7 / 127
                            + ", beyond FP16 (max 65504); its weights reach 1.0E7"
                            + " — rescale the layer or keep it FP16/FP32");
        }
    }
}
