package io.aneforge.graph;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.mil.Half;
import io.aneforge.quant.ActivationRange;
import org.junit.jupiter.api.Test;

/** W8A8's affine activation parameters (coremltools' {@code LINEAR} mode, int8) on ranges worked out by hand. */
class ActivationParamsTest {

    @Test
    void aRangeThatStartsAtZeroUsesEveryLevelFromMinus128() {
        // a GELU-like input: [0, 25.5]; scale 25.5 / 255 = 0.1 (in fp16), zero point -128
        WeightStore.ActivationParams p = WeightStore.affineActivation(new ActivationRange(0f, 25.5f));
        assertThat(p.scale()).isEqualTo(Half.round(Half.round(25.5f) / 255f));
        assertThat(p.zeroPoint()).isEqualTo(-128);
    }

    @Test
    void theRangeIsWidenedToIncludeZero() {
        // [2, 10] quantizes as [0, 10]: 0 stays exact
        WeightStore.ActivationParams p = WeightStore.affineActivation(new ActivationRange(2f, 10f));
        assertThat(p.scale()).isEqualTo(Half.round(10f / 255f));
        assertThat(p.zeroPoint()).isEqualTo(-128);
        WeightStore.ActivationParams n = WeightStore.affineActivation(new ActivationRange(-10f, -2f));
        assertThat(n.zeroPoint()).isEqualTo(127);
    }

    @Test
    void aSymmetricRangeRoundsItsHalfLevelZeroPointToEven() {
        // [-1, 1]: (-128 - -127) / 2 = -0.5, ties to even: 0 (NumPy's round)
        WeightStore.ActivationParams p = WeightStore.affineActivation(new ActivationRange(-1f, 1f));
        assertThat(p.zeroPoint()).isZero();
        assertThat(p.scale()).isEqualTo(Half.round(2f / 255f));
        // [-3, 1]: (-128 + 381) / 4 = 63.25 -> 63
        assertThat(WeightStore.affineActivation(new ActivationRange(-3f, 1f)).zeroPoint()).isEqualTo(63);
    }

    @Test
    void anAllZeroRangeLeavesValuesAsTheyAre() {
        WeightStore.ActivationParams p = WeightStore.affineActivation(new ActivationRange(0f, 0f));
        assertThat(p.scale()).isEqualTo(1f);
        assertThat(p.zeroPoint()).isZero();
    }

    @Test
    void rangesPastFp16sProductsKeepTheirZeroPointAndRangesPastFp16ReportAnInfiniteScale() {
        // -128 * 1000 leaves fp16: the zero point comes from the float formula, (-128000 + 76200) / 1600 = -32.375
        assertThat(WeightStore.affineActivation(new ActivationRange(-600f, 1000f)).zeroPoint()).isEqualTo(-32);
        // a width beyond 65504: the caller refuses the variant
        assertThat(WeightStore.affineActivation(new ActivationRange(-40000f, 40000f)).scale()).isInfinite();
    }
}
