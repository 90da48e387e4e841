package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.gate.Gates;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which gate changes loosen a limit (and so need an admin): {@link ModelGates#loosened}. */
class GatesLooseningTest {

    private static final Gates SET = Gates.withoutPerPrecisionLimits(0.999, Map.of("A17_PRO", 3.0), 50_000_000L, 8.0);

    @Test
    void clearingEveryGateLoosensEachLimit() {
        assertThat(ModelGates.loosened(SET, Gates.NONE)).containsExactly(
                "minCosine 0.999 -> none", "maxArtifactBytes 50000000 -> none", "maxP50MsDefault 8.0 -> none",
                "maxP50Ms.A17_PRO 3.0 -> none");
    }

    @Test
    void tighteningOrKeepingIsNotLoosening() {
        assertThat(ModelGates.loosened(SET, SET)).isEmpty();
        assertThat(ModelGates.loosened(SET, Gates.withoutPerPrecisionLimits(0.9999, Map.of("A17_PRO", 2.0, "M4", 1.0), 40_000_000L, 7.0))).isEmpty();
        assertThat(ModelGates.loosened(Gates.NONE, SET)).isEmpty();
    }

    @Test
    void aChipLimitCountsWhateverRuleAppliesToIt() {
        // dropping A17_PRO's own entry leaves it under the default of 8.0: looser than 3.0
        assertThat(ModelGates.loosened(SET, Gates.withoutPerPrecisionLimits(0.999, Map.of(), 50_000_000L, 8.0)))
                .containsExactly("maxP50Ms.A17_PRO 3.0 -> 8.0");
        // a chip newly listed above the old default is looser for that chip
        assertThat(ModelGates.loosened(SET, Gates.withoutPerPrecisionLimits(0.999, Map.of("A17_PRO", 3.0, "M4", 9.0), 50_000_000L, 8.0)))
                .containsExactly("maxP50Ms.M4 8.0 -> 9.0");
        assertThat(ModelGates.loosened(SET, Gates.withoutPerPrecisionLimits(0.99, Map.of("A17_PRO", 3.0), 50_000_000L, 8.0)))
                .containsExactly("minCosine 0.999 -> 0.99");
    }

    /** A precision's limit counts as the limit that applies to its variants: its own entry, else its family's, else minCosine. */
    @Test
    void aPrecisionsCosineLimitCountsWhateverRuleAppliesToIt() {
        Gates cosine = Gates.withoutPerPrecisionLimits(0.99, Map.of(), null, null);
        // a per-precision entry below minCosine relaxes those variants' limit: the W8A8 case needs an admin
        assertThat(ModelGates.loosened(cosine, perPrecision(0.99, Map.of("w8a8-affine", 0.95))))
                .containsExactly("minCosineByPrecision.w8a8-affine 0.99 -> 0.95");
        // one above it tightens
        assertThat(ModelGates.loosened(cosine, perPrecision(0.99, Map.of("fp16", 0.9999)))).isEmpty();
        Gates set = perPrecision(0.99, Map.of("w8a8-affine", 0.95, "int4", 0.98));
        assertThat(ModelGates.loosened(set, set)).isEmpty();
        // removing an entry below minCosine tightens (minCosine applies again), one above it loosens
        assertThat(ModelGates.loosened(set, perPrecision(0.99, Map.of("int4", 0.98)))).isEmpty();
        assertThat(ModelGates.loosened(perPrecision(0.99, Map.of("fp16", 0.9999)), cosine))
                .containsExactly("minCosineByPrecision.fp16 0.9999 -> 0.99");
        // without minCosine, removing an entry leaves those variants ungated
        assertThat(ModelGates.loosened(perPrecision(null, Map.of("int4", 0.98)), Gates.NONE))
                .containsExactly("minCosineByPrecision.int4 0.98 -> none");
        // a family entry applies to its precisions without their own entry: relaxing it loosens them
        assertThat(ModelGates.loosened(set, perPrecision(0.99, Map.of("w8a8-affine", 0.95, "int4", 0.97))))
                .containsExactly("minCosineByPrecision.int4 0.98 -> 0.97");
        // a precision's own entry below its family's relaxes it
        assertThat(ModelGates.loosened(set, perPrecision(0.99, Map.of("w8a8-affine", 0.95, "int4", 0.98,
                "int4-block32-affine-gptq", 0.975)))).containsExactly("minCosineByPrecision.int4-block32-affine-gptq 0.98 -> 0.975");
        // and lowering minCosine is reported as before
        assertThat(ModelGates.loosened(set, perPrecision(0.98, Map.of("w8a8-affine", 0.95, "int4", 0.98))))
                .containsExactly("minCosine 0.99 -> 0.98");
    }

    private static Gates perPrecision(Double minCosine, Map<String, Double> byPrecision) {
        return new Gates(minCosine, byPrecision, Map.of(), null, null);
    }
}
