package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.tensor.FloatTensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VariantFidelityTest {

    static FloatTensor hidden(float... v) {
        return new FloatTensor(new int[] {1, v.length / 2, 2}, v);
    }

    static Map<String, FloatTensor> in(float... mask) {
        return Map.of("attention_mask", new FloatTensor(new int[] {1, mask.length}, mask));
    }

    @Test
    void realTokensIgnorePaddingPositionsAndSamplesOfDifferentLengthsStack() {
        GoldenOutputs golden = new GoldenOutputs(List.of(
                GoldenOutputs.Sample.of("a", Map.of("last_hidden_state", hidden(1, 0, 0, 1, 1, 1))),
                GoldenOutputs.Sample.of("b", Map.of("last_hidden_state", hidden(2, 0, 5, 5, 0, 2)))));
        // candidate equal on real tokens, opposite at padding positions
        List<Map<String, FloatTensor>> cand = List.of(Map.of("last_hidden_state", hidden(1, 0, 0, 1, -1, -1)),
                Map.of("last_hidden_state", hidden(2, 0, -5, -5, 0, 2)));
        List<Map<String, FloatTensor>> inputs = List.of(in(1, 1, 0), in(1, 0, 1));
        FidelityReport real = VariantFidelity.realTokens(golden, cand, inputs).get("last_hidden_state");
        FidelityReport all = VariantFidelity.of(golden, cand).get("last_hidden_state");
        assertThat(real.positions()).isEqualTo(4);
        assertThat(real.cosineMin()).isEqualTo(1.0);
        assertThat(all.positions()).isEqualTo(6);
        assertThat(all.cosineMin()).isEqualTo(-1.0);
    }

    @Test
    void missingOutputsAndCountMismatchesAreNamed() {
        GoldenOutputs golden = new GoldenOutputs(List.of(GoldenOutputs.Sample.of("a", Map.of("logits", hidden(1, 0)))));
        assertThatThrownBy(() -> VariantFidelity.of(golden, List.of(Map.of("other", hidden(1, 0)))))
                .hasMessageContaining("no output 'logits'");
        assertThatThrownBy(() -> VariantFidelity.of(golden, List.of()))
                .hasMessageContaining("0 candidate samples for 1 golden samples");
    }
}
