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

    /**
     * Parts cut with the wrong positions are refused naming the output, the sample and what it should hold, though
     * their totals match and stacking would have compared them with the wrong golden rows: real tokens cut with the
     * other sample's count (4 + 4 for 3 + 5), held rows swapped between samples (2 + 1 for 1 + 2), a whole output cut.
     */
    @Test
    void comparedPartsThatDoNotMatchTheirSampleAreRefusedThoughTheTotalsMatch() {
        int s = 5;
        int v = 6;
        float[][] masks = {{1, 1, 1, 0, 0}, {1, 1, 1, 1, 1}};
        List<GoldenOutputs.Sample> golden = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Map<String, GoldenTensor> g = new LinkedHashMap<>();
            g.put("logits", GoldenTensor.of(wave(i, 1, s, v)).atPositions(i == 0 ? new int[] {1} : new int[] {0, 3}));
            g.put("last_hidden_state", GoldenTensor.of(wave(i + 7, 1, s, 2)));
            golden.add(new GoldenOutputs.Sample("s" + i, g));
        }
        GoldenOutputs reference = new GoldenOutputs(golden);
        List<float[]> maskList = List.of(masks[0], masks[1]);
        assertThat(VariantFidelity.comparedShape(golden.get(0), "logits", masks[0])).containsExactly(1, 1, v);
        assertThat(VariantFidelity.comparedShape(golden.get(0), "last_hidden_state", masks[0])).containsExactly(1, 3, 2);
        assertThat(VariantFidelity.comparedShape(golden.get(0), "last_hidden_state", null)).containsExactly(1, s, 2);
        assertThat(VariantFidelity.ofComparedParts(reference, parts(golden, maskList, false, false), maskList)).hasSize(2);

        assertThatThrownBy(() -> VariantFidelity.ofComparedParts(reference, parts(golden, maskList, false, true), maskList))
                .hasMessage("fidelity: the compared part of candidate output 'last_hidden_state' of sample 's0' has"
                        + " shape [1, 4, 2], not [1, 3, 2] (the sample has 3 real tokens of 5): cut each sample's"
                        + " outputs with VariantFidelity.comparedPart and that sample's own attention_mask");
        assertThatThrownBy(() -> VariantFidelity.ofComparedParts(reference, parts(golden, maskList, true, false), maskList))
                .hasMessageStartingWith("fidelity: the compared part of candidate output 'logits' of sample 's0' has"
                        + " shape [1, 2, 6], not [1, 1, 6] (the golden output holds 1 of its 5 positions)");
        List<Map<String, FloatTensor>> cut = parts(golden, null, false, false);
        cut.get(1).put("last_hidden_state", new FloatTensor(new int[] {1, 4, 2}, new float[8]));
        cut.get(0).put("last_hidden_state", new FloatTensor(new int[] {1, 6, 2}, new float[12]));
        assertThatThrownBy(() -> VariantFidelity.ofComparedParts(reference, cut, null))
                .hasMessageContaining("'last_hidden_state' of sample 's0' has shape [1, 6, 2], not [1, 5, 2]"
                        + " (compared whole, as the golden output [1, 5, 2])");
    }

    /**
     * Each sample's compared parts of {@code golden}'s outputs (candidates of the golden shapes), cut with the
     * sample's own held positions and mask, or: with {@code swapHeld} the {@code logits} at the other sample's held
     * positions, with {@code fourRealEach} the hidden states at 4 real tokens in each sample (their masks say 3 and 5).
     */
    private static List<Map<String, FloatTensor>> parts(List<GoldenOutputs.Sample> golden, List<float[]> masks,
                                                        boolean swapHeld, boolean fourRealEach) {
        List<Map<String, FloatTensor>> parts = new ArrayList<>();
        for (int i = 0; i < golden.size(); i++) {
            GoldenOutputs.Sample g = golden.get(i);
            Map<String, FloatTensor> p = new LinkedHashMap<>();
            p.put("logits", VariantFidelity.comparedPart(golden.get(swapHeld ? 1 - i : i), "logits",
                    filled(g.tensors().get("logits").shape()), null));
            float[] mask = masks == null ? null : fourRealEach ? new float[] {1, 1, 1, 1, 0} : masks.get(i);
            p.put("last_hidden_state", VariantFidelity.comparedPart(g, "last_hidden_state",
                    g.tensors().get("last_hidden_state").expand(), mask));
            parts.add(p);
        }
        return parts;
    }

    /** A tensor of {@code shape}, every element 1. */
    private static FloatTensor filled(int[] shape) {
        float[] d = new float[(int) FloatTensor.elementCount(shape)];
        java.util.Arrays.fill(d, 1f);
        return new FloatTensor(shape, d);
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
