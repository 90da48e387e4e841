package io.aneforge.estimate;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.ChipLine;
import io.aneforge.chips.FastPath;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class RooflineTest {

    static final ChipCatalog CATALOG = ChipCatalog.builtIn();

    static Chip chip(String id) {
        return CATALOG.chip(id).orElseThrow();
    }

    @Test
    void smallBatchLinearIsMemoryBoundAndTheRangeFollowsTheFormula() {
        ProgramCost cost = CostCounter.count(CostCounterTest.fp16Linear(128));
        LatencyEstimate e = Roofline.estimate(cost, chip("A17_PRO"));
        double memoryMs = cost.bytes() / 51.2e9 * 1e3;
        assertThat(e.boundBy()).isEqualTo(Bound.MEMORY);
        assertThat(e.lowMs()).isCloseTo(memoryMs, within(1e-12));
        assertThat(e.highMs()).isCloseTo(memoryMs / 0.3, within(1e-12));
        assertThat(e.flops()).isEqualTo(150_994_944L);
        assertThat(e.bytes()).isEqualTo(cost.bytes());
        assertThat(e.chip()).isEqualTo("A17_PRO");
        assertThat(e.source()).isEqualTo("estimated");
        assertThat(e.basis()).isEqualTo("0.151 GFLOP at 35 TOPS (Apple, Neural Engine peak) = 0.00431 ms; "
                + "1.67 MB moved (1.18 MB weights at stored size, 0.492 MB fp16 activations) at 51.2 GB/s (third-party)"
                + " = 0.0327 ms; memory-bound; range = roofline .. roofline / 0.3 achievable efficiency");
    }

    @Test
    void aConvWithHighArithmeticIntensityIsComputeBound() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP16, 1, 256, 64, 64);
        Var y = b.conv(x, b.constant(Constant.fp16(new float[256 * 256 * 9], 256, 256, 3, 3)), null);
        Program p = b.build(y);
        LatencyEstimate e = Roofline.estimate(p, chip("A17_PRO"));
        assertThat(e.boundBy()).isEqualTo(Bound.COMPUTE);
        assertThat(e.flops()).isEqualTo(2L * 256 * 62 * 62 * 256 * 9);
        assertThat(e.lowMs()).isCloseTo(e.flops() / 35e12 * 1e3, within(1e-12));
    }

    @Test
    void theBoundSwitchesWithTheChipsRidgePoint() {
        // ~236 FLOP/byte: above M2's ridge (15.8 TOPS / 100 GB/s = 158), below A17 Pro's (35 / 51.2 = 684)
        ProgramCost cost = CostCounter.count(CostCounterTest.fp16Linear(1024));
        double intensity = (double) cost.flops() / cost.bytes();
        assertThat(intensity).isBetween(158.0, 684.0);
        assertThat(Roofline.estimate(cost, chip("M2")).boundBy()).isEqualTo(Bound.COMPUTE);
        assertThat(Roofline.estimate(cost, chip("A17_PRO")).boundBy()).isEqualTo(Bound.MEMORY);
    }

    @Test
    void unknownBandwidthFallsBackToComputeOnlyAndSaysSo() {
        Chip x1 = new Chip("X1", ChipLine.A, 1, "Test chip", 10, null, "", FastPath.UNKNOWN, "test fixture");
        ProgramCost cost = ProgramCost.of(20_000_000_000L, 1_000_000_000L, 0);
        LatencyEstimate e = Roofline.estimate(cost, x1);
        assertThat(e.boundBy()).isEqualTo(Bound.COMPUTE);
        assertThat(e.lowMs()).isCloseTo(2.0, within(1e-12));
        assertThat(e.highMs()).isCloseTo(2.0 / 0.3, within(1e-12));
        assertThat(e.basis()).isEqualTo("20 GFLOP at 10 TOPS (Apple, Neural Engine peak) = 2 ms; memory bandwidth of X1"
                + " unknown, so this estimate uses compute only and is too low if the model is memory-bound (1000 MB moved);"
                + " compute-bound; range = roofline .. roofline / 0.3 achievable efficiency");
    }

    @Test
    void applesPublishedDistilbertLatencyFallsInsideTheRange() {
        // distilbert-base, seq 128, batch 1: 6 layers x (4 x 768^2 + 2 x 768 x 3072) = 42,467,328 linear weights
        long weights = 6L * (4 * 768 * 768 + 2 * 768 * 3072);
        long flops = 2L * 128 * weights + 6L * 2 * (2L * 128 * 128 * 768); // linears + QK^T and AV
        LatencyEstimate e = Roofline.estimate(ProgramCost.of(flops, 2 * weights, 0), chip("A15"));
        assertThat(e.boundBy()).isEqualTo(Bound.MEMORY);
        assertThat(e.lowMs()).isCloseTo(2.50, within(0.01));
        // 3.47 ms on iPhone 13 (A15), Apple ML Research, "Deploying Transformers on the Apple Neural Engine" (2022)
        assertThat(e.contains(3.47)).isTrue();
    }

    @Test
    void everyCatalogChipGetsAnEstimateLabelledEstimated() {
        List<LatencyEstimate> all = Roofline.estimateAll(CostCounterTest.fp16Linear(16), CATALOG);
        assertThat(all).extracting(LatencyEstimate::chip).containsExactlyElementsOf(
                CATALOG.chips().stream().map(Chip::id).toList());
        assertThat(all).allSatisfy(e -> {
            assertThat(e.source()).isEqualTo("estimated");
            assertThat(e.lowMs()).isPositive();
            assertThat(e.highMs()).isGreaterThan(e.lowMs());
        });
    }

    @Test
    void chipsAreLookedUpByCatalogId() {
        Program p = CostCounterTest.fp16Linear(8);
        assertThat(Roofline.estimate(p, "M4", CATALOG)).isEqualTo(Roofline.estimate(p, chip("M4")));
        assertThatThrownBy(() -> Roofline.estimate(p, "A19", CATALOG))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("chip 'A19' is not in the chip catalog [A14, A15,")
                .hasMessageEndingWith("; add a row to chips.psv or use a catalog id");
    }

    @Test
    void anEstimateCannotClaimToBeAMeasurement() {
        assertThatThrownBy(() -> new LatencyEstimate("M4", 1, 1, 1, 2, Bound.COMPUTE, "b", "measured"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a latency estimate's source must be 'estimated', got 'measured'");
    }
}
