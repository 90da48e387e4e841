package io.aneforge.registry.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.gate.Gates;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which gate changes loosen a limit (and so need an admin): {@link ModelGates#loosened}. */
class GatesLooseningTest {

    private static final Gates SET = new Gates(0.999, Map.of("A17_PRO", 3.0), 50_000_000L, 8.0);

    @Test
    void clearingEveryGateLoosensEachLimit() {
        assertThat(ModelGates.loosened(SET, Gates.NONE)).containsExactly(
                "minCosine 0.999 -> none", "maxArtifactBytes 50000000 -> none", "maxP50MsDefault 8.0 -> none",
                "maxP50Ms.A17_PRO 3.0 -> none");
    }

    @Test
    void tighteningOrKeepingIsNotLoosening() {
        assertThat(ModelGates.loosened(SET, SET)).isEmpty();
        assertThat(ModelGates.loosened(SET, new Gates(0.9999, Map.of("A17_PRO", 2.0, "M4", 1.0), 40_000_000L, 7.0))).isEmpty();
        assertThat(ModelGates.loosened(Gates.NONE, SET)).isEmpty();
    }

    @Test
    void aChipLimitCountsWhateverRuleAppliesToIt() {
        // dropping A17_PRO's own entry leaves it under the default of 8.0: looser than 3.0
        assertThat(ModelGates.loosened(SET, new Gates(0.999, Map.of(), 50_000_000L, 8.0)))
                .containsExactly("maxP50Ms.A17_PRO 3.0 -> 8.0");
        // a chip newly listed above the old default is looser for that chip
        assertThat(ModelGates.loosened(SET, new Gates(0.999, Map.of("A17_PRO", 3.0, "M4", 9.0), 50_000_000L, 8.0)))
                .containsExactly("maxP50Ms.M4 8.0 -> 9.0");
        assertThat(ModelGates.loosened(SET, new Gates(0.99, Map.of("A17_PRO", 3.0), 50_000_000L, 8.0)))
                .containsExactly("minCosine 0.999 -> 0.99");
    }
}
