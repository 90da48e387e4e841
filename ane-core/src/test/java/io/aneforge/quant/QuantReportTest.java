package io.aneforge.quant;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.vector.VectorPath;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The report's error sums: the vector lanes give the scalar chains' doubles bit for bit. */
class QuantReportTest {

    @Test
    void vectorChainsAreTheScalarChainsBitForBit() {
        assertThat(VectorPath.enabled()).as(VectorPath.describe()).isTrue();
        Random r = new Random(42);
        for (int n : new int[] {0, 1, 3, 4, 7, 32, 1001, 384 * 1536 + 3}) {
            float[] w = new float[n];
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 6));
                a[i] = i % 5 == 0 ? w[i] : w[i] + (float) (r.nextGaussian() * 1e-3);
            }
            double[] scalar = QuantReport.chains(w, a);
            double[] vector = VectorErrorSums.chains(w, a);
            for (int k = 0; k < 12; k++) {
                assertThat(Double.doubleToRawLongBits(vector[k])).as("n=" + n + " chain value " + k)
                        .isEqualTo(Double.doubleToRawLongBits(scalar[k]));
            }
            if (n > 1) {
                assertThat(scalar[4] + scalar[5] + scalar[6] + scalar[7]).isPositive(); // the noise is measured, not zero
            }
        }
    }

    @Test
    void reportOfAnExactEncodingIsCappedAndOfANoisyOneIsFinite() {
        float[] w = {1f, -2f, 0.5f, 4f, 3f};
        QuantReport exact = QuantReport.measure(w, WeightQuantizer.toFp16("w", new io.aneforge.tensor.FloatTensor(new int[] {5}, w)), "");
        assertThat(exact.sqnrDb()).isEqualTo(QuantReport.MAX_SQNR_DB);
        assertThat(exact.maxAbsError()).isZero();
        float[] v = {1.0001f, -2.0003f, 0.50002f, 4.0007f, 3.0001f};
        QuantReport noisy = QuantReport.measure(v, WeightQuantizer.toFp16("v", new io.aneforge.tensor.FloatTensor(new int[] {5}, v)), "");
        assertThat(noisy.maxAbsError()).isGreaterThan(0).isLessThan(0.002);
        assertThat(noisy.sqnrDb()).isBetween(60.0, 120.0);
    }
}
