package io.aneforge.quant;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.tensor.FloatTensor;
import io.aneforge.vector.VectorPath;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The report's error sums: the vector lanes give the scalar definition's sums bit for bit (the
 * report is part of a reproducible variants.json), the fused int8/int4 path gives the piecewise one's,
 * and the float-chain definition stays within a millionth of a straightforward double computation.
 */
class QuantReportTest {

    @Test
    void vectorPiecesAreTheScalarDefinitionBitForBit() {
        assertThat(VectorPath.enabled()).as(VectorPath.describe()).isTrue();
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorErrorSums.usable(), "needs 8 or 16 float lanes (AVX2 or AVX-512)");
        Random r = new Random(42);
        for (int n : new int[] {0, 1, 3, 8, 16, 29, 1024, 1031, 384 * 1536 + 3}) {
            float[] w = new float[n];
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 6));
                a[i] = i % 5 == 0 ? w[i] : w[i] + (float) (r.nextGaussian() * 1e-3);
            }
            double[] scalar = new double[3 * QuantReport.CHAINS];
            double[] vector = new double[3 * QuantReport.CHAINS];
            for (int from = 0; from < n; from += QuantReport.CHUNK) {
                int m = Math.min(QuantReport.CHUNK, n - from);
                float[] piece = java.util.Arrays.copyOfRange(a, from, from + m);
                QuantReport.chunk(w, from, piece, m, scalar);
                VectorErrorSums.chunk(w, from, piece, m, vector);
            }
            assertBitIdentical(vector, scalar, "n=" + n);
            if (n > 1) {
                assertThat(scalar[QuantReport.CHAINS] + scalar[QuantReport.CHAINS + 1]).isPositive(); // noise measured
            }
        }
    }

    @Test
    void fusedQuantizedSumsAreThePiecewiseOnesForEveryIntegerScheme() {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorPath.enabled() && VectorErrorSums.usable(), "needs 8 or 16 float lanes (AVX2 or AVX-512)");
        Random r = new Random(7);
        FloatTensor w = new FloatTensor(new int[] {48, 256}, new float[48 * 256]);
        for (int i = 0; i < w.size(); i++) {
            w.data()[i] = (float) (r.nextGaussian() * 0.05 + (i % 7 == 0 ? 0.02 : 0));
        }
        QuantSpec[] specs = {
                QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32),
                QuantSpec.perBlock(QuantType.INT8, QuantMode.AFFINE, 64),
                QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32),
                QuantSpec.perBlock(QuantType.INT4, QuantMode.SYMMETRIC, 128),
                QuantSpec.perChannel(QuantType.UINT8, QuantMode.AFFINE),
                QuantSpec.perChannel(QuantType.INT8, QuantMode.SYMMETRIC)};
        // per channel over 384 inputs: groups straddle the 1024-element pieces
        FloatTensor rows384 = new FloatTensor(new int[] {30, 384}, new float[30 * 384]);
        for (int i = 0; i < rows384.size(); i++) {
            rows384.data()[i] = (float) (r.nextGaussian() * 0.03);
        }
        QuantizedWeight[] weights = new QuantizedWeight[specs.length + 2];
        for (int k = 0; k < specs.length; k++) {
            weights[k] = WeightQuantizer.quantize("w", w, specs[k]);
        }
        weights[specs.length] = WeightQuantizer.quantize("r", rows384, QuantSpec.perChannel(QuantType.INT8, QuantMode.SYMMETRIC));
        weights[specs.length + 1] = WeightQuantizer.quantize("r", rows384, QuantSpec.perChannel(QuantType.UINT8, QuantMode.AFFINE));
        for (QuantizedWeight q : weights) {
            QuantSpec spec = q.spec();
            float[] src = q.name().equals("w") ? w.data() : rows384.data();
            assertThat(VectorErrorSums.fused(q)).isTrue();
            double[] fused = new double[3 * QuantReport.CHAINS];
            VectorErrorSums.quantized(src, q, fused);
            double[] piecewise = new double[3 * QuantReport.CHAINS];
            float[] approx = new float[QuantReport.CHUNK];
            for (int from = 0; from < src.length; from += QuantReport.CHUNK) {
                int m = Math.min(QuantReport.CHUNK, src.length - from);
                q.dequantize(from, m, approx);
                QuantReport.chunk(src, from, approx, m, piecewise);
            }
            assertBitIdentical(fused, piecewise, spec.label() + " " + java.util.Arrays.toString(q.shape()));
            if (spec.kind() == QuantSpec.Kind.PER_BLOCK) { // encode quantizes and measures piece by piece, on the kernel threads
                WeightQuantizer.Result r2 = WeightQuantizer.encode("w", w, spec);
                QuantizedWeight e = (QuantizedWeight) r2.weight();
                assertThat(e.values()).isEqualTo(q.values());
                assertThat(e.scales()).isEqualTo(q.scales());
                assertThat(e.zeroPoints()).isEqualTo(q.zeroPoints());
                assertThat(r2.report()).isEqualTo(QuantReport.measure(src, q, ""));
            }
        }
    }

    /** The FP16 report rounds in the lanes (no halves decoded): the decoded halves' sums, bit for bit, at every magnitude. */
    @Test
    void fp16SumsFromTheSourceAreTheDecodedHalvesSums() {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorPath.enabled() && VectorErrorSums.usable(), "needs 8 or 16 float lanes (AVX2 or AVX-512)");
        Random r = new Random(5);
        for (int n : new int[] {0, 5, 16, 1024, 1031, 3 * 1024 + 17, 384 * 1536 + 3}) {
            float[] w = new float[n];
            for (int i = 0; i < n; i++) {
                w[i] = switch (i % 6) {
                    case 0 -> (float) (r.nextGaussian() * Math.pow(2, r.nextInt(40) - 30)); // subnormal halves to normal ones
                    case 1 -> Float.intBitsToFloat(r.nextInt(0x477f_0000) & ~0xfff | 0x1000) * (r.nextBoolean() ? 1 : -1); // ties
                    case 2 -> i % 12 == 2 ? 0f : -0f;
                    case 3 -> (float) (r.nextGaussian() * 0.05);
                    case 4 -> r.nextBoolean() ? 65504f : -65504f + r.nextFloat();
                    default -> (float) (r.nextGaussian() * 1e-6);
                };
            }
            Fp16Weight halves = WeightQuantizer.toFp16("w", new FloatTensor(new int[] {n}, w));
            double[] fused = new double[3 * QuantReport.CHAINS];
            VectorErrorSums.Fp16Pieces pieces = new VectorErrorSums.Fp16Pieces();
            for (int from = 0; from < n; from += QuantReport.CHUNK) {
                pieces.add(w, from, Math.min(QuantReport.CHUNK, n - from), fused);
            }
            double[] decoded = new double[3 * QuantReport.CHAINS];
            float[] approx = new float[QuantReport.CHUNK];
            for (int from = 0; from < n; from += QuantReport.CHUNK) {
                int m = Math.min(QuantReport.CHUNK, n - from);
                halves.dequantize(from, m, approx);
                QuantReport.chunk(w, from, approx, m, decoded);
            }
            assertBitIdentical(fused, decoded, "n=" + n);
            // encode converts and measures piece by piece: the same halves and report
            WeightQuantizer.Result encoded = WeightQuantizer.encode("w", new FloatTensor(new int[] {n}, w), QuantSpec.fp16());
            assertThat(((Fp16Weight) encoded.weight()).halves()).isEqualTo(halves.halves());
            assertThat(encoded.report()).isEqualTo(QuantReport.measure(w, halves, ""));
        }
    }

    @Test
    void piecesDequantizeAsTheWholeTensorDoes() {
        FloatTensor w = new FloatTensor(new int[] {6, 96}, new float[6 * 96]);
        Random r = new Random(3);
        for (int i = 0; i < w.size(); i++) {
            w.data()[i] = (float) r.nextGaussian();
        }
        EncodedWeight[] encodings = {
                WeightQuantizer.quantize("w", w, QuantSpec.perChannel(QuantType.UINT8, QuantMode.AFFINE)),
                WeightQuantizer.quantize("w", w, QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32)),
                WeightQuantizer.toFp16("w", w)};
        for (EncodedWeight e : encodings) {
            float[] whole = e.dequantize().data();
            float[] piece = new float[101];
            e.dequantize(50, 101, piece); // crosses group boundaries at 96 and 128
            for (int i = 0; i < piece.length; i++) {
                assertThat(piece[i]).as(e.scheme() + " element " + (50 + i)).isEqualTo(whole[50 + i]);
            }
        }
    }

    @Test
    void reportAgreesWithAStraightforwardDoubleComputation() {
        Random r = new Random(11);
        FloatTensor w = new FloatTensor(new int[] {300, 384}, new float[300 * 384]);
        for (int i = 0; i < w.size(); i++) {
            w.data()[i] = (float) (r.nextGaussian() * 0.04);
        }
        for (EncodedWeight e : new EncodedWeight[] {WeightQuantizer.toFp16("w", w),
                WeightQuantizer.quantize("w", w, QuantSpec.perBlock(QuantType.INT8, QuantMode.SYMMETRIC, 32)),
                WeightQuantizer.quantize("w", w, QuantSpec.perBlock(QuantType.INT4, QuantMode.AFFINE, 32))}) {
            float[] a = e.dequantize().data();
            double signal = 0;
            double noise = 0;
            double max = 0;
            for (int i = 0; i < a.length; i++) {
                double d = (double) w.data()[i] - a[i];
                signal += (double) w.data()[i] * w.data()[i];
                noise += d * d;
                max = Math.max(max, Math.abs(d));
            }
            QuantReport report = QuantReport.measure(w.data(), e, "");
            assertThat(report.maxAbsError()).as(e.scheme()).isCloseTo(max, org.assertj.core.data.Percentage.withPercentage(1e-4));
            assertThat(report.sqnrDb()).as(e.scheme()).isCloseTo(10 * Math.log10(signal / noise),
                    org.assertj.core.api.Assertions.within(1e-4));
        }
    }

    @Test
    void reportOfAnExactEncodingIsCappedAndOfANoisyOneIsFinite() {
        float[] w = {1f, -2f, 0.5f, 4f, 3f};
        QuantReport exact = QuantReport.measure(w, WeightQuantizer.toFp16("w", new FloatTensor(new int[] {5}, w)), "");
        assertThat(exact.sqnrDb()).isEqualTo(QuantReport.MAX_SQNR_DB);
        assertThat(exact.maxAbsError()).isZero();
        float[] v = {1.0001f, -2.0003f, 0.50002f, 4.0007f, 3.0001f};
        QuantReport noisy = QuantReport.measure(v, WeightQuantizer.toFp16("v", new FloatTensor(new int[] {5}, v)), "");
        assertThat(noisy.maxAbsError()).isGreaterThan(0).isLessThan(0.002);
        assertThat(noisy.sqnrDb()).isBetween(60.0, 120.0);
    }

    private static void assertBitIdentical(double[] actual, double[] expected, String what) {
        for (int k = 0; k < expected.length; k++) {
            assertThat(Double.doubleToRawLongBits(actual[k])).as(what + " chain value " + k)
                    .isEqualTo(Double.doubleToRawLongBits(expected[k]));
        }
    }
}
