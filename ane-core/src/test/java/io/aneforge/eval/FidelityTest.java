package io.aneforge.eval;

import io.aneforge.kernels.Fp16;
import io.aneforge.kernels.Transpose;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

class FidelityTest {

    private static FloatTensor rand(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        FloatTensor t = FloatTensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.data()[i] = (float) r.nextGaussian();
        }
        return t;
    }

    @Test
    void identicalOutputsArePerfect() {
        FloatTensor x = rand(1, 2, 8, 16);
        FidelityReport r = Fidelity.compare(x, x);
        assertThat(r.positions()).isEqualTo(16);
        assertThat(r.hiddenSize()).isEqualTo(16);
        assertThat(r.cosineMean()).isCloseTo(1, offset(1e-12));
        assertThat(r.cosineMin()).isCloseTo(1, offset(1e-12));
        assertThat(r.maxAbsError()).isZero();
        assertThat(r.psnrDb()).isEqualTo(FidelityReport.MAX_PSNR_DB);
        assertThat(r.top1Agreement()).isNull();
    }

    @Test
    void knownValues() {
        // Two positions: the first identical, the second orthogonal; peak |ref| = 2.
        FloatTensor ref = new FloatTensor(new int[] {2, 2}, new float[] {1, 0, 0, 2});
        FloatTensor cand = new FloatTensor(new int[] {2, 2}, new float[] {1, 0, 2, 0});
        FidelityReport r = Fidelity.compareLogits(ref, cand);
        assertThat(r.cosineMean()).isCloseTo(0.5, offset(1e-12));
        assertThat(r.cosineMin()).isCloseTo(0, offset(1e-12));
        // pooled: mean vectors (0.5, 1) and (1.5, 0): cos = 0.75 / (sqrt(1.25) * 1.5)
        assertThat(r.cosinePooled()).isCloseTo(0.75 / (Math.sqrt(1.25) * 1.5), offset(1e-12));
        assertThat(r.maxAbsError()).isEqualTo(2);
        assertThat(r.meanAbsError()).isEqualTo(1);
        // RMSE = sqrt((4 + 4) / 4) = sqrt(2); PSNR = 20 log10(2 / sqrt 2)
        assertThat(r.psnrDb()).isCloseTo(20 * Math.log10(2 / Math.sqrt(2)), offset(1e-9));
        assertThat(r.top1Agreement()).isEqualTo(0.5);
        assertThat(r.passes(0.4)).isFalse();
    }

    @Test
    void fp16RoundingOfHiddenStatesPassesTheFp16Gate() {
        FloatTensor ref = rand(2, 1, 128, 384);
        float[] rounded = ref.data().clone();
        Fp16.roundInPlace(rounded);
        FidelityReport r = Fidelity.compare(ref, new FloatTensor(ref.shape(), rounded));
        assertThat(r.passes(0.9999)).isTrue();
        assertThat(r.psnrDb()).isBetween(60.0, 90.0);
    }

    @Test
    void aneLayoutUsesAxisOne() {
        FloatTensor bsc = rand(3, 1, 10, 32);
        FloatTensor noisy = rand(4, 1, 10, 32);
        for (int i = 0; i < noisy.size(); i++) {
            noisy.data()[i] = bsc.data()[i] + 0.1f * noisy.data()[i];
        }
        FidelityReport a = Fidelity.compare(bsc, noisy);
        // (B, S, C) -> (B, C, 1, S)
        FloatTensor ane = Transpose.transpose(new FloatTensor(new int[] {1, 10, 1, 32}, bsc.data()), new int[] {0, 3, 2, 1});
        FloatTensor aneNoisy = Transpose.transpose(new FloatTensor(new int[] {1, 10, 1, 32}, noisy.data()), new int[] {0, 3, 2, 1});
        FidelityReport b = Fidelity.compare(ane, aneNoisy, 1, false);
        assertThat(b.positions()).isEqualTo(10);
        assertThat(b.cosineMean()).isCloseTo(a.cosineMean(), offset(1e-12));
        assertThat(b.cosineMin()).isCloseTo(a.cosineMin(), offset(1e-12));
        assertThat(b.cosinePooled()).isCloseTo(a.cosinePooled(), offset(1e-12));
    }

    @Test
    void rejectsMismatchedShapesNonFiniteValuesAndInvalidReports() {
        assertThatThrownBy(() -> Fidelity.compare(rand(1, 2, 3), rand(1, 3, 2)))
                .hasMessageContaining("candidate shape [3, 2] differs from reference shape [2, 3]");
        FloatTensor bad = rand(1, 2, 3);
        bad.data()[4] = Float.POSITIVE_INFINITY;
        assertThatThrownBy(() -> Fidelity.compare(rand(1, 2, 3), bad))
                .hasMessageContaining("candidate output has a non-finite value (Infinity) at flat index 4 where the"
                        + " reference is finite; an FP16 variant that overflows");
        // a non-finite reference is the source model's own overflow, not a variant's
        FloatTensor nan = rand(1, 2, 3);
        nan.data()[0] = Float.NaN;
        assertThatThrownBy(() -> Fidelity.compare(nan, rand(1, 2, 3)))
                .hasMessageContaining("reference output (the unconverted model computed in FP32) has a non-finite value"
                        + " (NaN) at flat index 0: the source model itself overflows FP32 arithmetic")
                .message().asString().doesNotContain("FP16");
        assertThatThrownBy(() -> new FidelityReport(1, 4, 1.2, 1, 1, 0, 0, 10, null))
                .hasMessage("cosineMean must be in [-1, 1], got 1.2");
        assertThatThrownBy(() -> new FidelityReport(1, 4, 1, 1, 1, 0, 0, Double.POSITIVE_INFINITY, null))
                .hasMessageContaining("psnrDb must be finite");
        assertThatThrownBy(() -> new FidelityReport(1, 4, 1, 1, 1, 1, 2, 10, null))
                .hasMessageContaining("meanAbsError 2.0 exceeds maxAbsError 1.0");
        assertThatThrownBy(() -> new FidelityReport(1, 4, 1, 1, 1, 0, 0, 10, 1.5))
                .hasMessageContaining("top1Agreement must be in [0, 1]");
    }
}
