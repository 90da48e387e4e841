package io.aneforge.gate;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatesTest {

    @Test
    void validatesEveryLimitWithAMessageNamingTheField() {
        assertThatThrownBy(() -> new Gates(1.5, null, null, null))
                .isInstanceOf(InvalidGatesException.class)
                .hasMessage("gates.minCosine must be in (0, 1], got 1.5 (e.g. 0.999 for int8 variants, 0.9999 for fp16)");
        assertThatThrownBy(() -> new Gates(0.0, null, null, null)).hasMessageStartingWith("gates.minCosine must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> new Gates(Double.NaN, null, null, null)).isInstanceOf(InvalidGatesException.class);
        assertThatThrownBy(() -> new Gates(null, Map.of("A17_PRO", -3.0), null, null))
                .hasMessage("gates.maxP50Ms.A17_PRO must be a positive number of milliseconds, got -3.0");
        assertThatThrownBy(() -> new Gates(null, Map.of("iphone15", 3.0), null, null))
                .hasMessage("gates.maxP50Ms: key 'iphone15' is not a chip id like A17_PRO or M4");
        Map<String, Double> nullLimit = new HashMap<>();
        nullLimit.put("M2", null);
        assertThatThrownBy(() -> new Gates(null, nullLimit, null, null))
                .hasMessage("gates.maxP50Ms.M2 must be a positive number of milliseconds, got null");
        assertThatThrownBy(() -> new Gates(null, null, 0L, null)).hasMessage("gates.maxArtifactBytes must be positive, got 0");
        assertThatThrownBy(() -> new Gates(null, null, null, Double.POSITIVE_INFINITY))
                .hasMessage("gates.maxP50MsDefault must be a positive number of milliseconds, got Infinity");
        assertThat(new Gates(1.0, null, null, null).maxP50Ms()).isEmpty();
    }

    @Test
    void perChipLatencyLimitFallsBackToTheDefault() {
        Gates g = new Gates(null, Map.of("A17_PRO", 3.0), null, 8.0);
        assertThat(g.latencyLimitMs("A17_PRO")).isEqualTo(3.0);
        assertThat(g.latencyLimitMs("M1")).isEqualTo(8.0);
        assertThat(new Gates(null, Map.of("A17_PRO", 3.0), null, null).latencyLimitMs("M1")).isNull();
    }

    @Test
    void roundTripsThroughJson() {
        JsonMapper json = JsonMapper.builder().build();
        Gates g = new Gates(0.999, Map.of("A17_PRO", 3.0), 50_000_000L, 8.0);
        String text = json.writeValueAsString(g);
        assertThat(text).isEqualTo("{\"minCosine\":0.999,\"maxP50Ms\":{\"A17_PRO\":3.0},\"maxArtifactBytes\":50000000,\"maxP50MsDefault\":8.0}");
        assertThat(json.readValue(text, Gates.class)).isEqualTo(g);
        assertThat(json.readValue("{\"minCosine\":0.9999}", Gates.class)).isEqualTo(new Gates(0.9999, Map.of(), null, null));
        assertThatThrownBy(() -> json.readValue("{\"minCosine\":2}", Gates.class))
                .hasRootCauseInstanceOf(InvalidGatesException.class)
                .hasStackTraceContaining("gates.minCosine must be in (0, 1], got 2.0");
    }
}
