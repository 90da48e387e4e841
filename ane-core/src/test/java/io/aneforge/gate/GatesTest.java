package io.aneforge.gate;

import io.aneforge.variant.Precision;
import io.aneforge.variant.PrecisionSelector;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GatesTest {

    @Test
    void validatesEveryLimitWithAMessageNamingTheField() {
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(1.5, null, null, null))
                .isInstanceOf(InvalidGatesException.class)
                .hasMessage("gates.minCosine must be in (0, 1], got 1.5 (e.g. 0.999 for int8 variants, 0.9999 for fp16)");
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(0.0, null, null, null)).hasMessageStartingWith("gates.minCosine must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(Double.NaN, null, null, null)).isInstanceOf(InvalidGatesException.class);
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(null, Map.of("A17_PRO", -3.0), null, null))
                .hasMessage("gates.maxP50Ms.A17_PRO must be a positive number of milliseconds, got -3.0");
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(null, Map.of("iphone15", 3.0), null, null))
                .hasMessage("gates.maxP50Ms: key 'iphone15' is not a chip id like A17_PRO or M4");
        Map<String, Double> nullLimit = new HashMap<>();
        nullLimit.put("M2", null);
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(null, nullLimit, null, null))
                .hasMessage("gates.maxP50Ms.M2 must be a positive number of milliseconds, got null");
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(null, null, 0L, null)).hasMessage("gates.maxArtifactBytes must be positive, got 0");
        assertThatThrownBy(() -> Gates.withoutPerPrecisionLimits(null, null, null, Double.POSITIVE_INFINITY))
                .hasMessage("gates.maxP50MsDefault must be a positive number of milliseconds, got Infinity");
        assertThat(Gates.withoutPerPrecisionLimits(1.0, null, null, null).maxP50Ms()).isEmpty();
    }

    @Test
    void perPrecisionCosineLimitsAreValidatedLikeMinCosineAndKeyedByCanonicalPrecisionNames() {
        assertThatThrownBy(() -> new Gates(null, Map.of("w8a8-affine", 1.5), Map.of(), null, null))
                .isInstanceOf(InvalidGatesException.class)
                .hasMessage("gates.minCosineByPrecision.w8a8-affine must be in (0, 1], got 1.5 (e.g. 0.95 for w8a8-affine,"
                        + " 0.98 for int4; remove the key to use minCosine)");
        assertThatThrownBy(() -> new Gates(null, Map.of("int4", 0.0), Map.of(), null, null))
                .hasMessageStartingWith("gates.minCosineByPrecision.int4 must be in (0, 1], got 0.0");
        Map<String, Double> nullLimit = new HashMap<>();
        nullLimit.put("int4", null);
        assertThatThrownBy(() -> new Gates(null, nullLimit, Map.of(), null, null))
                .hasMessageStartingWith("gates.minCosineByPrecision.int4 must be in (0, 1], got null");
        // an unknown name is refused with the names that are known
        assertThatThrownBy(() -> new Gates(null, Map.of("w8a16", 0.9), Map.of(), null, null))
                .isInstanceOf(InvalidGatesException.class)
                .hasMessage("gates.minCosineByPrecision: key 'w8a16' is not a precision: use a family [fp16, int8, w8a8, int4,"
                        + " fp32] (every precision of it; w8a8 is both activation modes), a full precision id (int8-channel,"
                        + " int8-block{32,64,128}[-affine][-mse|-gptq], int4-block{32,64,128}[-affine][-mse|-gptq][-ffn8],"
                        + " w8a8-affine: exactly that one) or w8a8-symmetric (w8a8 with symmetric activations only)");
        // a known form with a wrong part: what is wrong first, then the forms
        assertThatThrownBy(() -> new Gates(null, Map.of("int8-block48", 0.9), Map.of(), null, null))
                .hasMessageStartingWith("gates.minCosineByPrecision: key 'int8-block48' is not a precision: block size must"
                        + " be 32, 64 or 128, got 48; use a family");
        // one spelling per precision: two keys never name the same variants
        assertThatThrownBy(() -> new Gates(null, Map.of("W8A8-Affine", 0.95), Map.of(), null, null))
                .hasMessage("gates.minCosineByPrecision: write key 'W8A8-Affine' as 'w8a8-affine'");

        Gates g = new Gates(0.99, Map.of("w8a8", 0.9, "w8a8-affine", 0.95, "int8-channel", 0.999), Map.of(), null, null);
        assertThat(g.cosineLimit(PrecisionSelector.of(Precision.parse("w8a8-affine")))).isEqualTo(0.95);
        assertThat(g.cosineLimit(PrecisionSelector.of(Precision.parse("w8a8")))).isEqualTo(0.9); // its family's
        assertThat(g.cosineLimitKey(PrecisionSelector.of(Precision.parse("w8a8")))).isEqualTo("w8a8");
        assertThat(g.cosineLimit(PrecisionSelector.of(Precision.INT8_CHANNEL))).isEqualTo(0.999);
        assertThat(g.cosineLimit(PrecisionSelector.of(Precision.parse("int8-block32")))).isEqualTo(0.99);
        assertThat(g.cosineLimitKey(PrecisionSelector.of(Precision.parse("int8-block32")))).isNull();
        assertThat(g.cosineLimit(null)).isEqualTo(0.99);
        assertThat(g.checksNothing()).isFalse();
        assertThat(new Gates(null, Map.of("int4", 0.98), Map.of(), null, null).checksNothing()).isFalse();
        assertThat(new Gates(null, Map.of("int4", 0.98), Map.of(), null, null).cosineLimit(PrecisionSelector.of(Precision.FP16)))
                .isNull();
    }

    @Test
    void perChipLatencyLimitFallsBackToTheDefault() {
        Gates g = Gates.withoutPerPrecisionLimits(null, Map.of("A17_PRO", 3.0), null, 8.0);
        assertThat(g.latencyLimitMs("A17_PRO")).isEqualTo(3.0);
        assertThat(g.latencyLimitMs("M1")).isEqualTo(8.0);
        assertThat(Gates.withoutPerPrecisionLimits(null, Map.of("A17_PRO", 3.0), null, null).latencyLimitMs("M1")).isNull();
    }

    @Test
    void roundTripsThroughJson() {
        JsonMapper json = JsonMapper.builder().build();
        Gates g = Gates.withoutPerPrecisionLimits(0.999, Map.of("A17_PRO", 3.0), 50_000_000L, 8.0);
        String text = json.writeValueAsString(g);
        assertThat(text).isEqualTo("{\"minCosine\":0.999,\"minCosineByPrecision\":{},\"maxP50Ms\":{\"A17_PRO\":3.0},"
                + "\"maxArtifactBytes\":50000000,\"maxP50MsDefault\":8.0}");
        assertThat(json.readValue(text, Gates.class)).isEqualTo(g);
        Gates perPrecision = new Gates(0.99, Map.of("w8a8-affine", 0.95), Map.of(), null, null);
        String withLimits = json.writeValueAsString(perPrecision);
        assertThat(withLimits).isEqualTo("{\"minCosine\":0.99,\"minCosineByPrecision\":{\"w8a8-affine\":0.95},\"maxP50Ms\":{},"
                + "\"maxArtifactBytes\":null,\"maxP50MsDefault\":null}");
        assertThat(json.readValue(withLimits, Gates.class)).isEqualTo(perPrecision);
        // gates stored before minCosineByPrecision read as having none
        assertThat(json.readValue("{\"minCosine\":0.99,\"maxP50Ms\":{}}", Gates.class).minCosineByPrecision()).isEmpty();
        assertThatThrownBy(() -> json.readValue("{\"minCosineByPrecision\":{\"w8a16\":0.9}}", Gates.class))
                .hasRootCauseInstanceOf(InvalidGatesException.class);
        assertThat(json.readValue("{\"minCosine\":0.9999}", Gates.class)).isEqualTo(Gates.withoutPerPrecisionLimits(0.9999, Map.of(), null, null));
        assertThatThrownBy(() -> json.readValue("{\"minCosine\":2}", Gates.class))
                .hasRootCauseInstanceOf(InvalidGatesException.class)
                .hasStackTraceContaining("gates.minCosine must be in (0, 1], got 2.0");
    }
}
