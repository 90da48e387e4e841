package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    /**
     * Candidates cut sample by sample to their compared parts (what an agent keeps while it runs the samples) give
     * the reports of the whole outputs, float for float: logits the golden data holds at some positions (only those
     * rows are kept), hidden states at the real tokens, a pooled output whole; with masks and without.
     */
    @Test
    void comparedPartsGiveTheReportsOfTheWholeOutputs() {
        int s = 5;
        int v = 6;
        List<GoldenOutputs.Sample> golden = new ArrayList<>();
        List<Map<String, FloatTensor>> whole = new ArrayList<>();
        List<Map<String, FloatTensor>> inputs = List.of(in(1, 1, 1, 0, 0), in(1, 1, 1, 1, 1));
        int[][] heldAt = {{1}, {0, 3}};
        for (int i = 0; i < 2; i++) {
            Map<String, GoldenTensor> g = new LinkedHashMap<>();
            Map<String, FloatTensor> c = new LinkedHashMap<>();
            FloatTensor logits = wave(i, 1, s, v);
            g.put("logits", GoldenTensor.of(logits).atPositions(heldAt[i]));
            c.put("logits", shifted(logits));
            FloatTensor state = wave(i + 7, 1, s, 2);
            g.put("last_hidden_state", GoldenTensor.of(state));
            c.put("last_hidden_state", shifted(state));
            FloatTensor pooled = wave(i + 3, 1, 2);
            g.put("pooler_output", GoldenTensor.of(pooled));
            c.put("pooler_output", shifted(pooled));
            golden.add(new GoldenOutputs.Sample("s" + i, g));
            whole.add(c);
        }
        GoldenOutputs reference = new GoldenOutputs(golden);
        List<float[]> masks = inputs.stream().map(m -> m.get("attention_mask").data()).toList();
        List<Map<String, FloatTensor>> parts = new ArrayList<>();
        List<Map<String, FloatTensor>> unmasked = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Map<String, FloatTensor> p = new LinkedHashMap<>();
            Map<String, FloatTensor> u = new LinkedHashMap<>();
            for (String name : reference.outputNames()) {
                p.put(name, VariantFidelity.comparedPart(golden.get(i), name, whole.get(i).get(name), masks.get(i)));
                u.put(name, VariantFidelity.comparedPart(golden.get(i), name, whole.get(i).get(name), null));
            }
            parts.add(p);
            unmasked.add(u);
        }
        assertThat(parts.get(0).get("logits").shape()).containsExactly(1, 1, v); // the held row only
        assertThat(parts.get(0).get("last_hidden_state").shape()).containsExactly(1, 3, 2); // the real tokens
        assertThat(parts.get(0).get("pooler_output").data()).isSameAs(whole.get(0).get("pooler_output").data()); // whole

        Map<String, FidelityReport> real = VariantFidelity.realTokens(reference, whole, inputs);
        assertThat(VariantFidelity.ofComparedParts(reference, parts, masks)).isEqualTo(real);
        assertThat(real.get("logits").comparedPositions()).isEqualTo(Map.of("s0", List.of(1), "s1", List.of(0, 3)));
        assertThat(real.get("last_hidden_state").positions()).isEqualTo(3 + 5);
        assertThat(VariantFidelity.ofComparedParts(reference, unmasked, null))
                .isEqualTo(VariantFidelity.of(reference, whole));
        assertThatThrownBy(() -> VariantFidelity.ofComparedParts(reference, parts, masks.subList(0, 1)))
                .hasMessage("fidelity: 2 candidate samples, 1 masks for 2 golden samples");
    }

    /** A smooth tensor of {@code shape}, none of its elements zero. */
    private static FloatTensor wave(int seed, int... shape) {
        float[] d = new float[(int) FloatTensor.elementCount(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) Math.sin(0.9 * i + seed) + 1.25f;
        return new FloatTensor(shape, d);
    }

    /** {@code t} off by a little, differently per element. */
    private static FloatTensor shifted(FloatTensor t) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) d[i] += 0.01f * (i % 5) - 0.02f;
        return new FloatTensor(t.shape(), d);
    }
}
