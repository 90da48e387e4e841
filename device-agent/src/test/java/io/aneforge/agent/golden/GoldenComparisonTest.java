package io.aneforge.agent.golden;

import static io.aneforge.agent.golden.AneLayoutOutputs.aneLayout;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.convert.VariantFidelity;
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

    /** {@code hidden(seed)} with zeros from position {@code real} on, as Golden.fullLength lays golden outputs out. */
    static FloatTensor padded(int seed, int real) {
        float[] d = hidden(seed).data().clone();
        java.util.Arrays.fill(d, real * C, d.length, 0f);
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
            whole.add(GoldenOutputs.Sample.of(sample(i), Map.of(Graphs.LAST_HIDDEN_STATE, padded(i, real[i]))));
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
        candidates.forEach((id, c) -> ane.put(id, Map.of(Graphs.LAST_HIDDEN_STATE, aneLayout(c.get(Graphs.LAST_HIDDEN_STATE)))));
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
            FloatTensor nsp = new FloatTensor(new int[] {1, 2}, new float[] {1.5f - i, 0.25f});
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            out.put("prediction_logits", padded(i, real[i]));
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
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            out.put("prediction_logits", padded(i, real[i]));
            out.put("seq_relationship_logits", new FloatTensor(new int[] {1, 2}, new float[] {1.5f - i, 0.25f}));
            whole.add(GoldenOutputs.Sample.of(sample(i), out));
            FloatTensor wild = wildPadding(hidden(i), real[i]); // sample 2 answers in the ANE layout (1, C, 1, S)
            candidates.put(sample(i), Map.of("prediction_logits", i == 2 ? aneLayout(wild) : wild,
                    "seq_relationship_logits", new FloatTensor(new int[] {1, 2}, new float[] {1.5f - i, 0.25f})));
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
        FloatTensor ane = aneLayout(wildPadding(ref, 6)); // (1, C, 1, S)
        FidelityReport f = GoldenComparison.compare(
                new GoldenOutputs(List.of(GoldenOutputs.Sample.of("sample-00", Map.of(Graphs.LAST_HIDDEN_STATE, ref)))),
                new GoldenOutputs(List.of(GoldenOutputs.Sample.of("sample-00", inputs(6)))),
                Map.of("sample-00", Map.of(Graphs.LAST_HIDDEN_STATE, ane)))
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

    /**
     * The comparison as the agent made it before it cut each sample as it ran, kept here as the oracle the streaming
     * comparison must match: every sample's whole outputs aligned, then {@code VariantFidelity} on all of them at once.
     */
    static Map<String, FidelityReport> allAtOnce(GoldenOutputs golden, GoldenOutputs inputs,
            Map<String, Map<String, FloatTensor>> candidates) {
        Map<String, FloatTensor> first = candidates.values().iterator().next();
        List<String> shared = golden.outputNames().stream().filter(first::containsKey).toList();
        if (shared.isEmpty()) {
            throw new IllegalArgumentException("the variant's outputs " + first.keySet() + " share no name with the golden"
                    + " outputs " + golden.outputNames() + "; the variant and the golden data disagree on output names");
        }
        Map<String, GoldenOutputs.Sample> inputsById = new java.util.HashMap<>();
        for (GoldenOutputs.Sample s : inputs.samples()) inputsById.put(s.id(), s);
        List<GoldenOutputs.Sample> reference = new ArrayList<>();
        List<Map<String, FloatTensor>> candidate = new ArrayList<>();
        List<Map<String, FloatTensor>> sampleInputs = new ArrayList<>();
        boolean masked = true;
        for (GoldenOutputs.Sample s : golden.samples()) {
            Map<String, FloatTensor> c = candidates.get(s.id());
            if (c == null) continue;
            GoldenOutputs.Sample sampleIn = inputsById.get(s.id());
            if (sampleIn == null) {
                throw new IllegalArgumentException("the golden inputs have no sample '" + s.id() + "' (the golden outputs"
                        + " do); the two golden blobs of this version do not belong together");
            }
            Map<String, io.aneforge.eval.GoldenTensor> r = new LinkedHashMap<>();
            Map<String, FloatTensor> t = new LinkedHashMap<>();
            for (String name : shared) {
                FloatTensor got = c.get(name);
                if (got == null) {
                    throw new IllegalArgumentException("output '" + name + "' is missing for sample '" + s.id() + "'");
                }
                r.put(name, s.tensors().get(name));
                t.put(name, GoldenComparison.align(name, s.tensors().get(name).shape(), got));
            }
            reference.add(new GoldenOutputs.Sample(s.id(), r));
            candidate.add(t);
            sampleInputs.add(sampleIn.outputs());
            masked &= sampleIn.tensors().containsKey(Graphs.ATTENTION_MASK);
        }
        if (reference.isEmpty()) {
            throw new IllegalArgumentException("no golden sample was run (sample ids " + candidates.keySet() + ")");
        }
        GoldenOutputs ref = new GoldenOutputs(reference);
        return masked ? VariantFidelity.realTokens(ref, candidate, sampleInputs) : VariantFidelity.of(ref, candidate);
    }

    /** Each sample added in turn, the way an accuracy job runs them, with no bound on the parts kept. */
    private static GoldenComparison streamed(GoldenOutputs golden, GoldenOutputs inputs,
            Map<String, Map<String, FloatTensor>> candidates) {
        GoldenComparison comparison = new GoldenComparison(golden, inputs, candidates.keySet(), Long.MAX_VALUE);
        candidates.forEach(comparison::add);
        return comparison;
    }

    /** (1, S, V) logits with zeros from {@code real} on (as Golden.fullLength lays them out), none zero before. */
    static FloatTensor logits(int seed, int real, int v) {
        float[] d = new float[S * v];
        for (int i = 0; i < real * v; i++) d[i] = (float) Math.sin(0.31 * i + seed) * 3 + 0.25f;
        return new FloatTensor(new int[] {1, S, v}, d);
    }

    /** The variant's answer to {@code golden}: close at the real tokens (an argmax flipped here and there), wild after. */
    static FloatTensor quantized(FloatTensor golden, int real, int seed) {
        int row = golden.size() / golden.shape()[1];
        float[] d = golden.data().clone();
        for (int i = 0; i < d.length; i++) {
            d[i] = i < real * row ? d[i] + 0.4f * (float) Math.cos(1.7 * i + seed) : 5 - 3 * (i % 7);
        }
        return new FloatTensor(golden.shape(), d);
    }

    private static GoldenOutputs roundTrip(GoldenOutputs g, int version) throws java.io.IOException {
        java.io.ByteArrayOutputStream blob = new java.io.ByteArrayOutputStream();
        io.aneforge.eval.golden.GoldenOutputsCodec.write(g, blob, version);
        return io.aneforge.eval.golden.GoldenOutputsCodec.read(new java.io.ByteArrayInputStream(blob.toByteArray()));
    }

    /**
     * A GPT-2 or fill-mask model's logits (1, S, V), golden format 3 (held at 8 of the samples' 22 real tokens): the
     * samples added one at a time keep those rows only (sample 2 answers in the ANE layout (1, V, 1, S), transposed
     * first), and the reports are the all-at-once comparison's, float for float, held positions included.
     */
    @Test
    void vocabularyLogitsHeldAtSomePositionsCompareSampleBySampleLikeAllAtOnce() throws Exception {
        int v = 64;
        int[] real = {5, 8, 3, 6};
        GoldenOutputs inputs = goldenInputs(real);
        List<GoldenOutputs.Sample> whole = new ArrayList<>();
        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        for (int i = 0; i < real.length; i++) {
            FloatTensor g = logits(i, real[i], v);
            whole.add(GoldenOutputs.Sample.of(sample(i), Map.of(Graphs.LOGITS, g)));
            FloatTensor c = quantized(g, real[i], i);
            candidates.put(sample(i), Map.of(Graphs.LOGITS, i == 2 ? aneLayout(c) : c));
        }
        GoldenOutputs held = roundTrip(io.aneforge.eval.golden.HeldPositions.reduce(inputs, new GoldenOutputs(whole), v,
                4L * v), 3);
        int heldRows = held.samples().stream().mapToInt(s -> s.tensors().get(Graphs.LOGITS).heldPositions().length).sum();
        assertThat(heldRows).isEqualTo(io.aneforge.eval.golden.HeldPositions.MIN_POSITIONS);

        GoldenComparison comparison = streamed(held, inputs, candidates);
        Map<String, FidelityReport> f = comparison.reports();
        assertThat(f).isEqualTo(allAtOnce(held, inputs, candidates));
        FidelityReport logits = f.get(Graphs.LOGITS);
        assertThat(logits.positions()).isEqualTo(heldRows);
        assertThat(logits.cosineMin()).isLessThan(0.999).isGreaterThan(0.9); // numbers that say something
        assertThat(logits.comparedPositions().values().stream().mapToInt(List::size).sum()).isEqualTo(heldRows);
        assertThat(comparison.heldBytes()).as("the held rows only, not 4 samples x S x V")
                .isEqualTo(4L * heldRows * v);

        // the benchmark job's single first sample, too
        GoldenOutputs first = new GoldenOutputs(List.of(held.samples().get(0)));
        Map<String, Map<String, FloatTensor>> one = Map.of(sample(0), candidates.get(sample(0)));
        assertThat(GoldenComparison.compare(first, inputs, one)).isEqualTo(allAtOnce(first, inputs, one));
    }

    /**
     * An encoder in the ANE layout, its golden data after a format-2 round trip (padding not held): hidden states
     * (1, C, 1, S) transposed and cut to the real tokens, the pooled output whole, as each sample is added; the same
     * reports as all at once. Without an attention_mask every position is compared, with the same numbers as
     * VariantFidelity.of.
     */
    @Test
    void anEncoderInAneLayoutComparesSampleBySampleLikeAllAtOnce() throws Exception {
        int[] real = {3, 8, 5};
        List<GoldenOutputs.Sample> whole = new ArrayList<>();
        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        for (int i = 0; i < real.length; i++) {
            FloatTensor state = padded(i, real[i]);
            FloatTensor pooled = new FloatTensor(new int[] {1, C}, new float[] {0.5f + i, -1, 2, 0.25f});
            Map<String, FloatTensor> out = new LinkedHashMap<>();
            out.put(Graphs.LAST_HIDDEN_STATE, state);
            out.put(Graphs.POOLER_OUTPUT, pooled);
            whole.add(GoldenOutputs.Sample.of(sample(i), out));
            candidates.put(sample(i), Map.of(Graphs.LAST_HIDDEN_STATE, aneLayout(quantized(state, real[i], i)),
                    Graphs.POOLER_OUTPUT, quantized(pooled, 1, i), "extra_output", hidden(9)));
        }
        GoldenOutputs held = roundTrip(new GoldenOutputs(whole), 2);
        GoldenOutputs inputs = goldenInputs(real);

        GoldenComparison comparison = streamed(held, inputs, candidates);
        Map<String, FidelityReport> f = comparison.reports();
        assertThat(f).isEqualTo(allAtOnce(held, inputs, candidates));
        assertThat(f.get(Graphs.LAST_HIDDEN_STATE).positions()).isEqualTo(3 + 8 + 5);
        assertThat(f.get(Graphs.LAST_HIDDEN_STATE).cosineMin()).isLessThan(0.9999);
        assertThat(comparison.heldBytes()).as("real tokens of the hidden states, the pooled outputs; no extra output")
                .isEqualTo(4L * (3 + 8 + 5) * C + 4L * real.length * C);

        GoldenOutputs noMask = new GoldenOutputs(inputs.samples().stream().map(s -> GoldenOutputs.Sample.of(s.id(),
                Map.of(Graphs.INPUT_IDS, s.outputs().get(Graphs.INPUT_IDS)))).toList());
        GoldenComparison every = streamed(held, noMask, candidates);
        assertThat(every.reports()).isEqualTo(allAtOnce(held, noMask, candidates));
        assertThat(every.reports().get(Graphs.LAST_HIDDEN_STATE).positions()).isEqualTo(real.length * S);
        assertThat(every.heldBytes()).isEqualTo(4L * real.length * (S * C + C)); // every position: whole outputs
    }

    /**
     * What every sample will keep is checked against the bound when the first sample is added, from the golden data
     * and masks alone: one byte short fails there, naming the setting and the bytes, before anything is kept and
     * before the next sample would run; exactly enough passes, and what is kept at the end is that sum (the logits'
     * 4 held rows, the hidden states' 3 + 8 + 5 real tokens, transposed from the ANE layout for one sample, the pooled
     * outputs whole; the extra output the golden data lacks is not kept).
     */
    @Test
    void thePartsEverySampleWillKeepAreCheckedAgainstTheBoundAtTheFirstSample() {
        int v = 16;
        int[] real = {3, 8, 5};
        int[][] heldAt = {{0}, {1, 6}, {4}};
        GoldenOutputs inputs = goldenInputs(real);
        List<GoldenOutputs.Sample> golden = new ArrayList<>();
        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        for (int i = 0; i < real.length; i++) {
            Map<String, io.aneforge.eval.GoldenTensor> g = new LinkedHashMap<>();
            FloatTensor logits = logits(i, real[i], v);
            g.put(Graphs.LOGITS, io.aneforge.eval.GoldenTensor.of(logits).atPositions(heldAt[i]));
            g.put(Graphs.LAST_HIDDEN_STATE, io.aneforge.eval.GoldenTensor.of(padded(i, real[i])));
            FloatTensor pooled = new FloatTensor(new int[] {1, C}, new float[] {0.5f + i, -1, 2, 0.25f});
            g.put(Graphs.POOLER_OUTPUT, io.aneforge.eval.GoldenTensor.of(pooled));
            golden.add(new GoldenOutputs.Sample(sample(i), g));
            FloatTensor state = quantized(padded(i, real[i]), real[i], i);
            candidates.put(sample(i), Map.of(Graphs.LOGITS, quantized(logits, real[i], i),
                    Graphs.LAST_HIDDEN_STATE, i == 1 ? aneLayout(state) : state,
                    Graphs.POOLER_OUTPUT, quantized(pooled, 1, i), "extra_output", hidden(9)));
        }
        GoldenOutputs held = new GoldenOutputs(golden);
        long expected = 4L * (4 * v + (3 + 8 + 5) * C + real.length * C);

        GoldenComparison tight = new GoldenComparison(held, inputs, candidates.keySet(), expected - 1);
        assertThatThrownBy(() -> tight.add(sample(0), candidates.get(sample(0))))
                .isInstanceOfSatisfying(GoldenException.class, e -> assertThat(e.fault())
                        .isEqualTo(io.aneforge.agent.cache.Fault.ARTIFACT))
                .hasMessageContaining("would take " + expected + " bytes over the 3 golden samples to run (known"
                        + " after the first, 'sample-00'), more than the " + (expected - 1) + "-byte limit")
                .hasMessageContaining("raise aneforge.agent.golden-max-memory");
        assertThat(tight.heldBytes()).isZero();

        GoldenComparison enough = new GoldenComparison(held, inputs, candidates.keySet(), expected);
        candidates.forEach(enough::add);
        assertThat(enough.heldBytes()).isEqualTo(expected);
        assertThat(enough.reports()).isEqualTo(allAtOnce(held, inputs, candidates));
    }

    /**
     * The errors of the all-at-once comparison, word for word, whatever order the samples are added in: the first
     * problem in golden order is the one reported (sample-01's missing output before sample-02's shape, though
     * sample-02 ran first), after every sample has run.
     */
    @Test
    void problemsAreTheAllAtOnceComparisonsInGoldenOrder() {
        GoldenOutputs golden = goldenHidden(3);
        GoldenOutputs inputs = goldenInputs(4, 5, 6);
        Map<String, Map<String, FloatTensor>> candidates = new LinkedHashMap<>();
        candidates.put(sample(2), Map.of(Graphs.LAST_HIDDEN_STATE, new FloatTensor(new int[] {1, S, C + 1},
                new float[S * (C + 1)])));
        candidates.put(sample(0), Map.of(Graphs.LAST_HIDDEN_STATE, hidden(0)));
        candidates.put(sample(1), Map.of(Graphs.LAST_HIDDEN_STATE, hidden(1), Graphs.POOLER_OUTPUT, hidden(1)));
        Map<String, Map<String, FloatTensor>> missing = new LinkedHashMap<>(candidates);
        missing.put(sample(1), Map.of(Graphs.POOLER_OUTPUT, hidden(1)));
        Map<String, Map<String, FloatTensor>> noneShared = Map.of(sample(0), Map.of("other", hidden(0)));
        Map<String, Map<String, FloatTensor>> notGolden = Map.of("sample-09", Map.of(Graphs.LAST_HIDDEN_STATE, hidden(0)));
        GoldenOutputs fewerInputs = goldenInputs(4);

        for (var c : List.of(candidates, missing, noneShared, notGolden)) {
            for (GoldenOutputs in : List.of(inputs, fewerInputs)) {
                Throwable expected = org.assertj.core.api.Assertions.catchThrowable(() -> allAtOnce(golden, in, c));
                assertThat(expected).isInstanceOf(IllegalArgumentException.class);
                GoldenComparison comparison = streamed(golden, in, c); // adding never fails on these
                assertThatThrownBy(comparison::reports).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage(expected.getMessage());
            }
        }
        assertThatThrownBy(() -> streamed(golden, inputs, missing).reports())
                .hasMessage("output 'last_hidden_state' is missing for sample 'sample-01'");
        assertThatThrownBy(() -> streamed(golden, inputs, candidates).reports())
                .hasMessage("output 'last_hidden_state' has shape [1, 8, 5] but the golden output has [1, 8, 4] (nor is"
                        + " it its ANE layout (B, C, 1, S))");
        assertThatThrownBy(() -> streamed(golden, inputs, notGolden).reports())
                .hasMessage("no golden sample was run (sample ids [sample-09])");
    }

    /**
     * The parts kept count against golden-max-memory: when those of every announced sample would pass it, the first
     * sample added fails, naming the setting, and nothing is kept (it used to fail at the sample that passed it, here
     * the third, after every prediction before). A sample not announced, or a report asked for before every
     * announced sample is in, is a caller's mistake.
     */
    @Test
    void thePartsKeptAreBoundedByTheGoldenMemorySetting() {
        GoldenOutputs golden = goldenHidden(3);
        GoldenOutputs inputs = goldenInputs(4, 5, 6);
        long twoSamples = 4L * (4 + 5) * C;
        GoldenComparison comparison = new GoldenComparison(golden, inputs, List.of(sample(0), sample(1), sample(2)),
                twoSamples);
        assertThatThrownBy(() -> comparison.add(sample(0), Map.of(Graphs.LAST_HIDDEN_STATE, hidden(0))))
                .isInstanceOf(GoldenException.class)
                .hasMessage("the variant's outputs kept to compare with the golden data (the held positions, real tokens"
                        + " or whole outputs the comparison reads of [last_hidden_state]) would take "
                        + (twoSamples + 4L * 6 * C) + " bytes over the 3 golden samples to run (known after the first,"
                        + " 'sample-00'), more than the " + twoSamples + "-byte limit for golden data held in memory:"
                        + " raise aneforge.agent.golden-max-memory (env ANEFORGE_AGENT_GOLDEN_MAX_MEMORY), and the"
                        + " agent's heap (-Xmx) with it")
                .matches(e -> ((GoldenException) e).fault() == io.aneforge.agent.cache.Fault.ARTIFACT);
        assertThat(comparison.heldBytes()).isZero();

        GoldenComparison partial = new GoldenComparison(golden, inputs, List.of(sample(0), sample(1)), Long.MAX_VALUE);
        partial.add(sample(0), Map.of(Graphs.LAST_HIDDEN_STATE, hidden(0)));
        assertThatThrownBy(() -> partial.add(sample(2), Map.of(Graphs.LAST_HIDDEN_STATE, hidden(2))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("sample 'sample-02' was not among the samples to run [sample-00, sample-01]");
        assertThatThrownBy(() -> partial.add(sample(0), Map.of(Graphs.LAST_HIDDEN_STATE, hidden(0))))
                .isInstanceOf(IllegalStateException.class).hasMessage("sample 'sample-00' was already added");
        assertThatThrownBy(partial::reports).isInstanceOf(IllegalStateException.class)
                .hasMessage("samples [sample-00, sample-01] were to be added, only [sample-00] were");
    }
}
