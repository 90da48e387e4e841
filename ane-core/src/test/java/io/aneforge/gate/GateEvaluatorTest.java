package io.aneforge.gate;

import io.aneforge.mil.Target;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.PrecisionSelector;
import io.aneforge.variant.VariantSpec;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GateEvaluatorTest {

    static final Gates GATES = Gates.withoutPerPrecisionLimits(0.999, Map.of("M2", 3.0, "A17_PRO", 2.0), 40_000_000L, null);

    static Map<String, Double> p50(Object... settingAndMs) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < settingAndMs.length; i += 2) {
            m.put((String) settingAndMs[i], (Double) settingAndMs[i + 1]);
        }
        return m;
    }

    static VariantFacts facts(String chip, String precision, Long bytes, Double cosine, Map<String, Double> p50) {
        return new VariantFacts(chip.toLowerCase() + "-ios18-ane-" + precision + "-s128", chip,
                PrecisionSelector.of(Precision.parse(precision)), chip + " " + precision, bytes, cosine, p50, List.of(), false);
    }

    @Test
    void cosineBelowTheLimitFails() {
        GateResult r = GateEvaluator.evaluate(GATES, facts("A17_PRO", "int8-block32", 20_000_000L, 0.9971,
                p50("cpuAndNeuralEngine", 1.2)));
        assertThat(r.status()).isEqualTo(GateStatus.FAIL);
        assertThat(r.reasons()).containsExactly("A17_PRO int8-block32: cosine 0.9971 < 0.999");
    }

    @Test
    void messagesNeverPrintATie() {
        assertThat(GateEvaluator.evaluate(GATES, facts("A17_PRO", "fp16", 1L, 0.99899, p50("all", 2.04))).reasons())
                .containsExactly("A17_PRO fp16: cosine 0.99899 < 0.999", "A17_PRO fp16: p50 2.04 ms > 2.0 ms on all");
        // exactly at the limit passes
        assertThat(GateEvaluator.evaluate(GATES, facts("A17_PRO", "fp16", 40_000_000L, 0.999, p50("all", 2.0))).status())
                .isEqualTo(GateStatus.PASS);
    }

    @Test
    void latencyGateUsesTheBestMeasuredSetting() {
        GateResult fail = GateEvaluator.evaluate(GATES, facts("M2", "fp16", 30_000_000L, 0.9999,
                p50("cpuOnly", 9.0, "cpuAndGPU", 5.5, "cpuAndNeuralEngine", 4.2)));
        assertThat(fail.status()).isEqualTo(GateStatus.FAIL);
        assertThat(fail.reasons()).containsExactly("M2 fp16: p50 4.2 ms > 3.0 ms on cpuAndNeuralEngine");

        GateResult pass = GateEvaluator.evaluate(GATES, facts("M2", "fp16", 30_000_000L, 0.9999,
                p50("cpuOnly", 9.0, "cpuAndNeuralEngine", 2.7, "all", null)));
        assertThat(pass.status()).isEqualTo(GateStatus.PASS); // a pending setting cannot undo a measured pass
        assertThat(pass.reasons()).isEmpty();
    }

    @Test
    void aSlowMeasurementWithAnotherSettingPendingIsIncomplete() {
        GateResult r = GateEvaluator.evaluate(GATES, facts("M2", "fp16", 30_000_000L, 0.9999,
                p50("all", null, "cpuOnly", 9.0, "cpuAndNeuralEngine", null)));
        assertThat(r.status()).isEqualTo(GateStatus.INCOMPLETE);
        assertThat(r.reasons()).containsExactly(
                "M2 fp16: p50 9.0 ms > 3.0 ms on cpuOnly (best so far; waiting for cpuAndNeuralEngine, all)");
    }

    @Test
    void missingResultsArePendingAndFailuresComeFirst() {
        GateResult r = GateEvaluator.evaluate(GATES, facts("M2", "int8-block32", 45_100_000L, null, p50("cpuAndNeuralEngine", null)));
        assertThat(r.status()).isEqualTo(GateStatus.FAIL);
        assertThat(r.reasons()).containsExactly(
                "M2 int8-block32: artifact 45.1 MB > 40.0 MB (45100000 > 40000000 bytes)",
                "M2 int8-block32: no accuracy result yet",
                "M2 int8-block32: no latency result yet");

        GateResult notBuilt = GateEvaluator.evaluate(GATES, facts("M2", "fp16", null, null, Map.of()));
        assertThat(notBuilt.status()).isEqualTo(GateStatus.INCOMPLETE);
        assertThat(notBuilt.reasons()).containsExactly("M2 fp16: not built yet (artifact size unknown)",
                "M2 fp16: no accuracy result yet", "M2 fp16: no latency result yet (no benchmark planned)");
    }

    @Test
    void ungatedChipsAndUnsetGatesAreNotWaitedFor() {
        // M1 has no latency limit and no default: its missing benchmark does not hold the variant back
        assertThat(GateEvaluator.evaluate(GATES, facts("M1", "fp16", 1L, 0.99995, Map.of())).status()).isEqualTo(GateStatus.PASS);
        assertThat(GateEvaluator.evaluate(Gates.NONE, facts("M1", "fp16", null, null, p50("all", null))).status())
                .isEqualTo(GateStatus.PASS);
        assertThat(GateEvaluator.evaluate(Gates.NONE, facts("M1", "fp16", null, Double.NaN, Map.of())).status())
                .isEqualTo(GateStatus.PASS);
    }

    /**
     * W8A8 gated honestly: int8 activations cannot reach fp16's cosine, so its own limit replaces minCosine for its
     * rows only; the most specific entry wins (the precision's own, then its family's, then minCosine), and a failure
     * names the entry it was measured against.
     */
    @Test
    void aPrecisionsOwnCosineLimitReplacesMinCosineForItsVariantsOnly() {
        Gates g = new Gates(0.99, Map.of("w8a8-affine", 0.95, "int4", 0.98, "int4-block32-affine-gptq", 0.985),
                Map.of(), null, null);
        assertThat(GateEvaluator.evaluate(g, facts("A17_PRO", "w8a8-affine", 1L, 0.9564, Map.of())).status())
                .isEqualTo(GateStatus.PASS);
        GateResult below = GateEvaluator.evaluate(g, facts("A17_PRO", "w8a8-affine", 1L, 0.9412, Map.of()));
        assertThat(below.reasons()).containsExactly("A17_PRO w8a8-affine: cosine 0.9412 < 0.95 (minCosineByPrecision.w8a8-affine)");
        // symmetric w8a8 has no entry of its own nor of its family: minCosine, named as before
        assertThat(GateEvaluator.evaluate(g, facts("A17_PRO", "w8a8", 1L, 0.9564, Map.of())).reasons())
                .containsExactly("A17_PRO w8a8: cosine 0.9564 < 0.99");
        assertThat(GateEvaluator.evaluate(g, facts("M4", "fp16", 1L, 0.9564, Map.of())).reasons())
                .containsExactly("M4 fp16: cosine 0.9564 < 0.99");
        // the family's entry for the other int4 precisions, the precision's own where it has one
        assertThat(GateEvaluator.evaluate(g, facts("M4", "int4-block32-affine", 1L, 0.975, Map.of())).reasons())
                .containsExactly("M4 int4-block32-affine: cosine 0.9750 < 0.98 (minCosineByPrecision.int4)");
        assertThat(GateEvaluator.evaluate(g, facts("M4", "int4-block64", 1L, 0.981, Map.of())).status()).isEqualTo(GateStatus.PASS);
        assertThat(GateEvaluator.evaluate(g, facts("M4", "int4-block32-affine-gptq", 1L, 0.982, Map.of())).reasons())
                .containsExactly("M4 int4-block32-affine-gptq: cosine 0.9820 < 0.985 (minCosineByPrecision.int4-block32-affine-gptq)");
        // a pending cosine is waited for under a per-precision limit too
        assertThat(GateEvaluator.evaluate(g, facts("A17_PRO", "w8a8-affine", 1L, null, Map.of())).reasons())
                .containsExactly("A17_PRO w8a8-affine: no accuracy result yet");

        // without minCosine, only the listed precisions are cosine-gated
        Gates only = new Gates(null, Map.of("w8a8-symmetric", 0.86), Map.of(), null, null);
        assertThat(GateEvaluator.evaluate(only, facts("M4", "w8a8", 1L, 0.85, Map.of())).reasons())
                .containsExactly("M4 w8a8: cosine 0.8500 < 0.86 (minCosineByPrecision.w8a8-symmetric)");
        assertThat(GateEvaluator.evaluate(only, facts("M4", "w8a8-affine", 1L, 0.5, Map.of())).status()).isEqualTo(GateStatus.PASS);
        assertThat(GateEvaluator.evaluate(only, facts("M4", "fp16", 1L, null, Map.of())).status()).isEqualTo(GateStatus.PASS);

        // the roll-up promotion checks goes by each variant's own limit
        VersionVerdict v = GateEvaluator.rollUp(g, List.of(facts("A17_PRO", "fp16", 1L, 0.9999, Map.of()),
                facts("A17_PRO", "w8a8-affine", 1L, 0.9564, Map.of())));
        assertThat(v.status()).isEqualTo(GateStatus.PASS);
        assertThat(GateEvaluator.rollUp(Gates.withoutPerPrecisionLimits(0.99, Map.of(), null, null), List.of(facts("A17_PRO", "fp16", 1L, 0.9999,
                Map.of()), facts("A17_PRO", "w8a8-affine", 1L, 0.9564, Map.of()))).failingCells())
                .containsExactly("A17_PRO w8a8-affine");
    }

    @Test
    void failedRunsAndNanCosinesFail() {
        VariantFacts f = new VariantFacts("m4-ios18-ane-w8a8-s128", "M4", null, "M4 w8a8", 1L, Double.NaN, Map.of(),
                List.of("cpuAndNeuralEngine: model failed to compile"), false);
        GateResult r = GateEvaluator.evaluate(Gates.withoutPerPrecisionLimits(0.999, Map.of(), null, null), f);
        assertThat(r.status()).isEqualTo(GateStatus.FAIL);
        assertThat(r.reasons()).containsExactly("M4 w8a8: cpuAndNeuralEngine: model failed to compile", "M4 w8a8: cosine NaN < 0.999");
    }

    @Test
    void cellLabelsNameChipLayoutAndPrecision() {
        assertThat(VariantFacts.cellLabel(new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.parse("int8-block32"), 128, 0)))
                .isEqualTo("A17_PRO int8-block32");
        assertThat(VariantFacts.cellLabel(new VariantSpec("M2", Target.IOS16, Layout.STANDARD, Precision.FP16, 128, 0)))
                .isEqualTo("M2 standard fp16");
    }

    @Test
    void factsRejectUnknownComputeUnits() {
        assertThatThrownBy(() -> facts("M2", "fp16", 1L, 1.0, p50("gpuOnly", 1.0)))
                .hasMessage("variant m2-ios18-ane-fp16-s128: unknown compute units 'gpuOnly' in p50Ms;"
                        + " use one of [cpuOnly, cpuAndGPU, cpuAndNeuralEngine, all]");
    }

    @Test
    void versionFailsIfAnyGatedVariantFails() {
        VersionVerdict v = GateEvaluator.rollUp(GATES, List.of(
                facts("A17_PRO", "fp16", 30_000_000L, 0.99995, p50("cpuAndNeuralEngine", 1.5)),
                facts("A17_PRO", "int8-block32", 20_000_000L, 0.9971, p50("cpuAndNeuralEngine", 1.1)),
                facts("M2", "fp16", 30_000_000L, null, p50("cpuAndNeuralEngine", 2.1))));
        assertThat(v.status()).isEqualTo(GateStatus.FAIL);
        assertThat(v.failingCells()).containsExactly("A17_PRO int8-block32");
        assertThat(v.pendingCells()).containsExactly("M2 fp16");
        assertThat(v.reasons()).containsExactly("A17_PRO int8-block32: cosine 0.9971 < 0.999", "M2 fp16: no accuracy result yet");
        assertThat(v.variants()).extracting(GateResult::status)
                .containsExactly(GateStatus.PASS, GateStatus.FAIL, GateStatus.INCOMPLETE);
    }

    @Test
    void versionIsIncompleteWhileSomethingIsPendingAndPassesWhenAllPass() {
        VariantFacts good = facts("A17_PRO", "fp16", 30_000_000L, 0.99995, p50("cpuAndNeuralEngine", 1.5));
        VariantFacts waiting = facts("M2", "fp16", 30_000_000L, 0.9999, p50("cpuAndNeuralEngine", null));
        VersionVerdict incomplete = GateEvaluator.rollUp(GATES, List.of(good, waiting));
        assertThat(incomplete.status()).isEqualTo(GateStatus.INCOMPLETE);
        assertThat(incomplete.failingCells()).isEmpty();
        assertThat(incomplete.reasons()).containsExactly("M2 fp16: no latency result yet");

        VersionVerdict pass = GateEvaluator.rollUp(GATES, List.of(good));
        assertThat(pass.status()).isEqualTo(GateStatus.PASS);
        assertThat(pass.reasons()).isEmpty();

        VersionVerdict empty = GateEvaluator.rollUp(GATES, List.of());
        assertThat(empty.status()).isEqualTo(GateStatus.INCOMPLETE);
        assertThat(empty.reasons()).containsExactly("no variants to gate yet");
    }

    @Test
    void baselineVariantsAreShownButDoNotGateTheVersion() {
        VariantFacts slowBaseline = new VariantFacts("m2-ios18-standard-fp16-s128", "M2", PrecisionSelector.of(Precision.FP16), "M2 standard fp16", 30_000_000L,
                0.99995, p50("cpuAndNeuralEngine", 12.0), List.of(), true);
        VariantFacts good = facts("M2", "fp16", 30_000_000L, 0.99995, p50("cpuAndNeuralEngine", 2.5));
        VersionVerdict v = GateEvaluator.rollUp(GATES, List.of(slowBaseline, good));
        assertThat(v.status()).isEqualTo(GateStatus.PASS);
        assertThat(v.variants().get(0).status()).isEqualTo(GateStatus.FAIL);
        assertThat(v.variants().get(0).reasons()).containsExactly("M2 standard fp16: p50 12.0 ms > 3.0 ms on cpuAndNeuralEngine");
        assertThat(GateEvaluator.rollUp(GATES, List.of(slowBaseline)).status()).isEqualTo(GateStatus.INCOMPLETE);
    }
}
