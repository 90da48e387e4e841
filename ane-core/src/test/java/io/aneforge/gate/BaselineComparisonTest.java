package io.aneforge.gate;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BaselineComparisonTest {

    @Test
    void flagsLatencyAndCosineRegressionsBeyondTheDefaultThresholds() {
        Map<String, CellValues> v1 = new LinkedHashMap<>();
        v1.put("M2 fp16", new CellValues(0.99995, 4.0));
        v1.put("A17_PRO int8-block32", new CellValues(0.9995, 1.0));
        v1.put("M1 fp16", new CellValues(0.99995, 6.0));
        Map<String, CellValues> v2 = new LinkedHashMap<>();
        v2.put("M2 fp16", new CellValues(0.99990, 4.6));           // +15 %: regressed
        v2.put("A17_PRO int8-block32", new CellValues(0.9987, 1.05)); // -0.0008 cosine: regressed; +5 % latency: fine
        v2.put("M1 fp16", new CellValues(0.99993, 6.6));           // exactly +10 %: not beyond the threshold
        v2.put("M4 fp16", new CellValues(0.99995, 1.0));           // new cell: no delta

        BaselineComparison c = BaselineComparison.compare(v1, v2);
        assertThat(c.regressed()).isTrue();
        assertThat(c.cells()).extracting(CellDelta::cell).containsExactly("M2 fp16", "A17_PRO int8-block32", "M1 fp16", "M4 fp16");
        CellDelta m2 = c.cells().get(0);
        assertThat(m2.latencyChange()).isCloseTo(0.15, within(1e-9));
        assertThat(m2.cosineChange()).isCloseTo(-0.00005, within(1e-12));
        assertThat(m2.reasons()).containsExactly("M2 fp16: p50 4.60 ms vs 4.00 ms (+15.0 %) exceeds +10.0 %");
        CellDelta a17 = c.cells().get(1);
        assertThat(a17.regression()).isTrue();
        assertThat(a17.reasons()).containsExactly("A17_PRO int8-block32: cosine 0.99870 vs 0.99950 (-0.00080) drops more than 0.0005");
        assertThat(c.cells().get(2).regression()).isFalse();
        CellDelta m4 = c.cells().get(3);
        assertThat(m4.baseline()).isNull();
        assertThat(m4.latencyChange()).isNull();
        assertThat(m4.regression()).isFalse();
    }

    @Test
    void improvementsAndMissingNumbersAreNotRegressions() {
        Map<String, CellValues> v1 = Map.of("M2 fp16", new CellValues(0.9999, 4.0));
        assertThat(BaselineComparison.compare(v1, Map.of("M2 fp16", new CellValues(0.99995, 2.0))).regressed()).isFalse();
        BaselineComparison pending = BaselineComparison.compare(v1, Map.of("M2 fp16", new CellValues(null, null)));
        assertThat(pending.regressed()).isFalse();
        assertThat(pending.cells().get(0).cosineChange()).isNull();
        // a cosine drop of exactly the threshold is not beyond it
        assertThat(BaselineComparison.compare(Map.of("c", new CellValues(0.9995, null)), Map.of("c", new CellValues(0.9990, null)))
                .regressed()).isFalse();
        assertThat(BaselineComparison.compare(Map.of("c", new CellValues(0.9995, null)), Map.of("c", new CellValues(0.99899, null)))
                .regressed()).isTrue();
        // stricter thresholds flag the same change
        assertThat(BaselineComparison.compare(v1, Map.of("M2 fp16", new CellValues(0.9999, 4.2)),
                new RegressionThresholds(0.02, 0.0001)).regressed()).isTrue();
    }

    @Test
    void aChangeJustPastAThresholdNeverReadsAsTheThreshold() {
        // +10.04 %: one decimal would print "+10.0 % exceeds +10.0 %", and 2.2008 ms would print as 2.20 (= 2.00 × 1.1)
        BaselineComparison lat = BaselineComparison.compare(Map.of("c", new CellValues(null, 2.0)), Map.of("c", new CellValues(null, 2.2008)));
        assertThat(lat.cells().get(0).reasons()).containsExactly("c: p50 2.201 ms vs 2.00 ms (+10.04 %) exceeds +10.0 %");
        // -0.000501 cosine: five decimals would print "(-0.00050) drops more than 0.0005"
        BaselineComparison cos = BaselineComparison.compare(Map.of("c", new CellValues(0.9995, null)), Map.of("c", new CellValues(0.998999, null)));
        assertThat(cos.cells().get(0).reasons()).containsExactly("c: cosine 0.99900 vs 0.99950 (-0.000501) drops more than 0.0005");
        // far from the threshold the short form stays
        BaselineComparison far = BaselineComparison.compare(Map.of("c", new CellValues(null, 2.0)), Map.of("c", new CellValues(null, 2.5)));
        assertThat(far.cells().get(0).reasons()).containsExactly("c: p50 2.50 ms vs 2.00 ms (+25.0 %) exceeds +10.0 %");
    }
}
