package io.aneforge.agent.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The agent's accuracy numbers use ane-core's definition of fidelity: per-token outputs are compared on the
 * positions whose attention_mask is 1 only, so padding (which nothing downstream reads) cannot drag a gate down.
 */
class GoldenComparisonTest {

    static final int S = 8;
    static final int C = 4;

    /** (1, S, C) with a smooth, non-zero vector per position. */
    static FloatTensor hidden(int seed) {
        float[] d = new float[S * C];
        for (int i = 0; i < d.length; i++) d[i] = (float) Math.sin(0.7 * i + seed) + 1.5f;
        return new FloatTensor(new int[] {1, S, C}, d);
    }

    /** The same tensor with the positions from {@code real} on replaced by vectors pointing the other way. */
    static FloatTensor wildPadding(FloatTensor t, int real) {
        float[] d = t.data().clone();
        for (int i = real * C; i < d.length; i++) d[i] = -7 * d[i] + (i % 3);
        return new FloatTensor(t.shape(), d);
    }

    static Map<String, FloatTensor> inputs(int real) {
        float[] ids = new float[S];
        float[] mask = new float[S];
        for (int p = 0; p < real; p++) {
            ids[p] = 100 + p;
            mask[p] = 1;
        }
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, S}, ids));
        m.put(Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, S}, mask));
        return m;
    }

    /** Golden outputs of {@code samples} samples, {@code sample-00} on, whose last hidden states are {@code hidden(0)} on. */
    private static GoldenOutputs goldenHidden(int samples) {
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            out.add(GoldenOutputs.Sample.of(sample(i), Map.of(Graphs.LAST_HIDDEN_STATE, hidden(i))));
        }
        return new GoldenOutputs(out);
    }

    /** Golden inputs of {@code real.length} samples, {@code sample-00} on: sample i has {@code real[i]} real tokens. */
    private static GoldenOutputs goldenInputs(int... real) {
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (int i = 0; i < real.length; i++) out.add(GoldenOutputs.Sample.of(sample(i), inputs(real[i])));
        return new GoldenOutputs(out);
    }

    private static String sample(int i) {
        return String.format("sample-%02d", i);
    }

    @Test
    void paddedPositionsThatDifferWildlyDoNotCountWhenTheRealTokensMatch() {
        GoldenOutputs golden = goldenHidden(2);
        GoldenOutputs inputs = goldenInputs(3, 5);
        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        candidates.put("sample-00", Map.of(Graphs.LAST_HIDDEN_STATE, wildPadding(hidden(0), 3)));
        candidates.put("sample-01", Map.of(Graphs.LAST_HIDDEN_STATE, wildPadding(hidden(1), 5)));

        FidelityReport f = GoldenComparison.compare(golden, inputs, candidates).get(Graphs.LAST_HIDDEN_STATE);
        assertThat(f.positions()).isEqualTo(3 + 5); // the real tokens of both samples, not 2 x 8
        assertThat(f.hiddenSize()).isEqualTo(C);
        assertThat(f.cosineMean()).isGreaterThan(0.999999);
        assertThat(f.cosineMin()).isGreaterThan(0.999999);
        assertThat(f.maxAbsError()).isZero();

        // Counting padding in (what the agent did before) reads the same variant as broken.
        GoldenOutputs noMask = new GoldenOutputs(List.of(
                GoldenOutputs.Sample.of("sample-00", Map.of(Graphs.INPUT_IDS, inputs(3).get(Graphs.INPUT_IDS))),
                GoldenOutputs.Sample.of("sample-01", Map.of(Graphs.INPUT_IDS, inputs(5).get(Graphs.INPUT_IDS)))));
        FidelityReport all = GoldenComparison.compare(golden, noMask, candidates).get(Graphs.LAST_HIDDEN_STATE);
        assertThat(all.positions()).isEqualTo(2 * S); // no attention_mask input: every position is real
        assertThat(all.cosineMin()).isLessThan(0);
    }

    /**
     * Golden outputs as the agent holds them after decoding: each sample's hidden states up to its last real token,
     * the padded positions not held. The comparison reads them as they are, with the same numbers as the outputs laid
     * out whole with zeros at padding, in both ANE and standard layout.
     */
    @Test
    void goldenOutputsHeldWithoutTheirPaddingCompareLikeTheWholeOnes() throws Exception {
        List<GoldenOutputs.Sample> whole = new ArrayList<>();
        int[] real = {3, 6};
        for (int i = 0; i < real.length; i++) {
            float[] d = hidden(i).data().clone();
            java.util.Arrays.fill(d, real[i] * C, d.length, 0f); // 0 at padding, as Golden.fullLength stores them
            whole.add(GoldenOutputs.Sample.of(sample(i), Map.of(Graphs.LAST_HIDDEN_STATE, new FloatTensor(new int[] {1, S, C}, d))));
        }
        GoldenOutputs padded = new GoldenOutputs(whole);
        java.io.ByteArrayOutputStream blob = new java.io.ByteArrayOutputStream();
        io.aneforge.eval.golden.GoldenOutputsCodec.write(padded, blob, 2);
        GoldenOutputs held = io.aneforge.eval.golden.GoldenOutputsCodec.read(new java.io.ByteArrayInputStream(blob.toByteArray()));
        assertThat(held.samples().get(0).tensors().get(Graphs.LAST_HIDDEN_STATE).stored()).hasSize(3 * C);
        assertThat(held.heldBytes()).isEqualTo(4L * (3 + 6) * C);

        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        candidates.put("sample-00", Map.of(Graphs.LAST_HIDDEN_STATE, wildPadding(hidden(5), 3)));
        candidates.put("sample-01", Map.of(Graphs.LAST_HIDDEN_STATE, wildPadding(hidden(1), 6)));
        GoldenOutputs inputs = goldenInputs(real);
        FidelityReport f = GoldenComparison.compare(held, inputs, candidates).get(Graphs.LAST_HIDDEN_STATE);
        assertThat(f).isEqualTo(GoldenComparison.compare(padded, inputs, candidates).get(Graphs.LAST_HIDDEN_STATE));
        assertThat(f.positions()).isEqualTo(3 + 6);
        assertThat(f.cosineMin()).as("sample 0's candidate is another vector").isLessThan(0.99);

        Map<String, Map<String, FloatTensor>> ane = new LinkedHashMap<>();
        candidates.forEach((id, c) -> {
            float[] src = c.get(Graphs.LAST_HIDDEN_STATE).data();
            float[] dst = new float[S * C]; // (1, C, 1, S)
            for (int ch = 0; ch < C; ch++) {
                for (int p = 0; p < S; p++) dst[ch * S + p] = src[p * C + ch];
            }
            ane.put(id, Map.of(Graphs.LAST_HIDDEN_STATE, new FloatTensor(new int[] {1, C, 1, S}, dst)));
        });
        assertThat(GoldenComparison.compare(held, inputs, ane).get(Graphs.LAST_HIDDEN_STATE)).isEqualTo(f);
    }

    /**
     * Real tokens whose outputs are exactly 0 (a ReLU or clamped head, a masked output) lie past what a decoded
     * tensor holds: start logits {@code [0.5, 1.5, 0, 0 | 0, 0]} with four real tokens hold two elements, and hidden
     * states whose last real row and the end of the row before are 0 hold less than the real rows. They read as
     * zeros, with the same report as the tensors laid out whole.
     */
    @Test
    void realTokensPastTheHeldElementsReadAsZerosAfterAFormatTwoRoundTrip() throws Exception {
        int seq = 6;
        int real = 4;
        float[] hidden = new float[seq * C];
        for (int i = 0; i < (real - 1) * C - 1; i++) hidden[i] = 0.25f * i + 1; // row 2 ends in 0, row 3 is all 0
        Map<String, FloatTensor> out = new LinkedHashMap<>();
        out.put(Graphs.START_LOGITS, new FloatTensor(new int[] {1, seq}, new float[] {0.5f, 1.5f, 0, 0, 0, 0}));
        out.put(Graphs.LAST_HIDDEN_STATE, new FloatTensor(new int[] {1, seq, C}, hidden));
        GoldenOutputs padded = new GoldenOutputs(List.of(GoldenOutputs.Sample.of("sample-00", out)));
        java.io.ByteArrayOutputStream blob = new java.io.ByteArrayOutputStream();
        io.aneforge.eval.golden.GoldenOutputsCodec.write(padded, blob, 2);
        GoldenOutputs held = io.aneforge.eval.golden.GoldenOutputsCodec.read(new java.io.ByteArrayInputStream(blob.toByteArray()));
        assertThat(held.samples().get(0).tensors().get(Graphs.START_LOGITS).stored()).hasSize(2);
        assertThat(held.samples().get(0).tensors().get(Graphs.LAST_HIDDEN_STATE).stored()).hasSize((real - 1) * C - 1);

        float[] ids = {101, 7, 8, 102, 0, 0};
        float[] mask = {1, 1, 1, 1, 0, 0};
        GoldenOutputs inputs = new GoldenOutputs(List.of(GoldenOutputs.Sample.of("sample-00", Map.of(
                Graphs.INPUT_IDS, new FloatTensor(new int[] {1, seq}, ids),
                Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, seq}, mask)))));
        float[] near = hidden.clone();
        for (int i = 0; i < near.length; i++) near[i] += 0.01f * (i % 3);
        Map<String, FloatTensor> candidate = Map.of(
                Graphs.START_LOGITS, new FloatTensor(new int[] {1, seq}, new float[] {0.5f, 1.4f, 0.1f, 0, 9, 9}),
                Graphs.LAST_HIDDEN_STATE, new FloatTensor(new int[] {1, seq, C}, near));

        Map<String, FidelityReport> decoded = GoldenComparison.compare(held, inputs, Map.of("sample-00", candidate));
        assertThat(decoded).isEqualTo(GoldenComparison.compare(padded, inputs, Map.of("sample-00", candidate)));
        assertThat(decoded.get(Graphs.LAST_HIDDEN_STATE).positions()).isEqualTo(real);
        assertThat(decoded.get(Graphs.START_LOGITS).maxAbsError()).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-6));
    }

    /**
     * A pre-training package's two outputs of different shapes, after a format-2 round trip: {@code prediction_logits
     * (1, S, V)} compared on each sample's real tokens, {@code seq_relationship_logits (1, 2)} whole, one row per
     * sample; both with top-1 agreement (the next-sentence answer flipped in one sample of two reads 0.5).
     */
    @Test
    void aPreTrainingPackagesTwoOutputsCompareEachByItsOwnShape() throws Exception {
        int[] real = {3, 6};
        List<GoldenOutputs.Sample> whole = new ArrayList<>();
        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        for (int i = 0; i < real.length; i++) {
            float[] d = hidden(i).data().clone();
            java.util.Arrays.fill(d, real[i] * C, d.length, 0f);
            FloatTensor nsp = new FloatTensor(new int[] {1, 2}, new float[] {1.5f - i, 0.25f});
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            out.put("prediction_logits", new FloatTensor(new int[] {1, S, C}, d));
            out.put("seq_relationship_logits", nsp);
            whole.add(GoldenOutputs.Sample.of(sample(i), out));
            // sample 1's next-sentence logits swap their order: the other answer
            FloatTensor got = i == 0 ? new FloatTensor(new int[] {1, 2}, new float[] {1.4f, 0.3f})
                    : new FloatTensor(new int[] {1, 2}, new float[] {0.25f, 0.5f});
            candidates.put(sample(i), Map.of("prediction_logits", wildPadding(hidden(i), real[i]),
                    "seq_relationship_logits", got));
        }
        java.io.ByteArrayOutputStream blob = new java.io.ByteArrayOutputStream();
        io.aneforge.eval.golden.GoldenOutputsCodec.write(new GoldenOutputs(whole), blob, 2);
        GoldenOutputs held = io.aneforge.eval.golden.GoldenOutputsCodec.read(new java.io.ByteArrayInputStream(blob.toByteArray()));

        Map<String, FidelityReport> f = GoldenComparison.compare(held, goldenInputs(real), candidates);
        assertThat(f).containsOnlyKeys("prediction_logits", "seq_relationship_logits");
        FidelityReport predictions = f.get("prediction_logits");
        assertThat(predictions.positions()).isEqualTo(3 + 6);
        assertThat(predictions.hiddenSize()).isEqualTo(C);
        assertThat(predictions.cosineMin()).isGreaterThan(0.999999);
        assertThat(predictions.top1Agreement()).isEqualTo(1.0);
        FidelityReport nsp = f.get("seq_relationship_logits");
        assertThat(nsp.positions()).isEqualTo(2);
        assertThat(nsp.hiddenSize()).isEqualTo(2);
        assertThat(nsp.top1Agreement()).isEqualTo(0.5);
    }

    /**
     * Golden format 3 as convert and the worker store it (HeldPositions): the vocabulary-sized prediction_logits held
     * at 8 of the 18 real tokens, the next-sentence logits whole. The agent compares the held positions only (an
     * ANE-layout candidate transposed first), names them in the report, and a benchmark job's single first sample
     * still has one to compare.
     */
    @Test
    void formatThreeComparesTheHeldPositionsAndNamesThem() throws Exception {
        int[] real = {5, 6, 7};
        List<GoldenOutputs.Sample> whole = new ArrayList<>();
        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        for (int i = 0; i < real.length; i++) {
            float[] d = hidden(i).data().clone();
            java.util.Arrays.fill(d, real[i] * C, d.length, 0f);
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            out.put("prediction_logits", new FloatTensor(new int[] {1, S, C}, d));
            out.put("seq_relationship_logits", new FloatTensor(new int[] {1, 2}, new float[] {1.5f - i, 0.25f}));
            whole.add(GoldenOutputs.Sample.of(sample(i), out));
            FloatTensor wild = wildPadding(hidden(i), real[i]);
            float[] ane = new float[S * C]; // sample 2 answers in the ANE layout (1, C, 1, S)
            for (int c = 0; c < C; c++) {
                for (int p = 0; p < S; p++) ane[c * S + p] = wild.data()[p * C + c];
            }
            candidates.put(sample(i), Map.of("prediction_logits", i == 2 ? new FloatTensor(new int[] {1, C, 1, S}, ane)
                    : wild, "seq_relationship_logits", new FloatTensor(new int[] {1, 2}, new float[] {1.5f - i, 0.25f})));
        }
        GoldenOutputs inputs = goldenInputs(real);
        GoldenOutputs reduced = io.aneforge.eval.golden.HeldPositions.reduce(inputs, new GoldenOutputs(whole), C, 1);
        java.io.ByteArrayOutputStream blob = new java.io.ByteArrayOutputStream();
        io.aneforge.eval.golden.GoldenOutputsCodec.write(reduced, blob);
        assertThat(blob.toByteArray()[4]).isEqualTo((byte) 3);
        GoldenOutputs held = io.aneforge.eval.golden.GoldenOutputsCodec.read(new java.io.ByteArrayInputStream(blob.toByteArray()));

        Map<String, FidelityReport> f = GoldenComparison.compare(held, inputs, candidates);
        FidelityReport predictions = f.get("prediction_logits");
        assertThat(predictions.positions()).isEqualTo(io.aneforge.eval.golden.HeldPositions.MIN_POSITIONS);
        assertThat(predictions.cosineMin()).isGreaterThan(0.999999);
        assertThat(predictions.top1Agreement()).isEqualTo(1.0);
        assertThat(predictions.comparedPositions()).containsOnlyKeys(sample(0), sample(1), sample(2));
        assertThat(predictions.comparedPositions().values().stream().mapToInt(List::size).sum()).isEqualTo(8);
        assertThat(predictions.comparedPositions().get(sample(0))).allSatisfy(p -> assertThat(p).isLessThan(real[0]));
        assertThat(f.get("seq_relationship_logits").positions()).isEqualTo(3);
        assertThat(f.get("seq_relationship_logits").comparedPositions()).isNull();

        // a benchmark job compares the first sample alone: it holds some of the positions
        FidelityReport first = GoldenComparison.compare(new GoldenOutputs(List.of(held.samples().get(0))), inputs,
                Map.of(sample(0), candidates.get(sample(0)))).get("prediction_logits");
        assertThat(first.positions()).isEqualTo(predictions.comparedPositions().get(sample(0)).size()).isPositive();
    }

    @Test
    void aneLayoutOutputsAreTransposedBeforeTheirRealTokensArePicked() {
        FloatTensor ref = hidden(2);
        FloatTensor wild = wildPadding(ref, 6);
        float[] ane = new float[S * C]; // (1, C, 1, S)
        for (int c = 0; c < C; c++) {
            for (int p = 0; p < S; p++) ane[c * S + p] = wild.data()[p * C + c];
        }
        FidelityReport f = GoldenComparison.compare(
                new GoldenOutputs(List.of(GoldenOutputs.Sample.of("sample-00", Map.of(Graphs.LAST_HIDDEN_STATE, ref)))),
                new GoldenOutputs(List.of(GoldenOutputs.Sample.of("sample-00", inputs(6)))),
                Map.of("sample-00", Map.of(Graphs.LAST_HIDDEN_STATE, new FloatTensor(new int[] {1, C, 1, S}, ane))))
                .get(Graphs.LAST_HIDDEN_STATE);
        assertThat(f.positions()).isEqualTo(6);
        assertThat(f.cosineMin()).isGreaterThan(0.999999);
    }

    @Test
    void onlyTheSamplesRunAreComparedAndTheirInputsMustBeThere() {
        GoldenOutputs golden = goldenHidden(2);
        GoldenOutputs inputs = goldenInputs(2, 7);
        FidelityReport one = GoldenComparison.compare(golden, inputs,
                Map.of("sample-01", Map.of(Graphs.LAST_HIDDEN_STATE, hidden(1)))).get(Graphs.LAST_HIDDEN_STATE);
        assertThat(one.positions()).isEqualTo(7);

        GoldenOutputs otherInputs = new GoldenOutputs(List.of(GoldenOutputs.Sample.of("other", inputs(2))));
        assertThatThrownBy(() -> GoldenComparison.compare(golden, otherInputs,
                Map.of("sample-00", Map.of(Graphs.LAST_HIDDEN_STATE, hidden(0)))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the golden inputs have no sample 'sample-00' (the golden outputs do); the two golden blobs"
                        + " of this version do not belong together");
    }
}
