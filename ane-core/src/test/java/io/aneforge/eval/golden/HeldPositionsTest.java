package io.aneforge.eval.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.convert.VariantFidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.graph.Graphs;
import io.aneforge.tensor.FloatTensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Golden format 3's held positions: which real tokens a vocabulary-sized output keeps, how much that holds, and what
 * a comparison against them sees and does not see.
 */
class HeldPositionsTest {
    static final int S = 16;

    /** Real-token masks of {@code lengths[i]} tokens at seq {@code S}. */
    static List<boolean[]> masks(int... lengths) {
        List<boolean[]> out = new ArrayList<>();
        for (int n : lengths) {
            boolean[] m = new boolean[S];
            Arrays.fill(m, 0, n, true);
            out.add(m);
        }
        return out;
    }

    /** The fixed samples' shape: 32 samples of about 19 real tokens (615 in all with BERT's uncased tokenizer). */
    static int[] fixedLengths() {
        int[] lengths = new int[32];
        for (int i = 0; i < 32; i++) {
            lengths[i] = 15 + (i * 7) % 10; // 15..24 real tokens
        }
        return lengths;
    }

    static List<boolean[]> fixedMasks() {
        List<boolean[]> out = new ArrayList<>();
        for (int n : fixedLengths()) {
            boolean[] m = new boolean[32];
            Arrays.fill(m, 0, n, true);
            out.add(m);
        }
        return out;
    }

    /**
     * The bound per vocabulary: max(8, 2^21 / V) positions, so BERT-base holds 68, RoBERTa and GPT-2 41, XLM-RoBERTa
     * 8, each at most 8.3 MB of floats where every real token held 75 MB to 600 MB. The first sample always holds one
     * (benchmark jobs compare it alone), positions are real tokens, ascending, away from [CLS] when a sample holds one.
     */
    @Test
    void holdsABoundedNumberOfRealTokensSpreadOverTheSamples() {
        Map<Integer, Integer> expected = Map.of(30522, 68, 50265, 41, 50257, 41, 250_002, 8);
        for (Map.Entry<Integer, Integer> e : expected.entrySet()) {
            int total = (int) Math.max(HeldPositions.MIN_POSITIONS, HeldPositions.MAX_FLOATS / e.getKey());
            assertThat(total).as("V = " + e.getKey()).isEqualTo(e.getValue());
            assertThat(4L * total * e.getKey()).as("bytes held for V = " + e.getKey()).isLessThan(8_400_000L);
            int[][] chosen = HeldPositions.choose(fixedMasks(), total);
            assertThat(Arrays.stream(chosen).mapToInt(p -> p.length).sum()).isEqualTo(total);
            assertThat(chosen[0]).as("the first sample holds one").isNotEmpty();
            for (int i = 0; i < chosen.length; i++) {
                int real = fixedLengths()[i];
                assertThat(chosen[i]).isSorted().doesNotHaveDuplicates();
                assertThat(Arrays.stream(chosen[i]).boxed().toList()).allSatisfy(p -> assertThat(p).isBetween(0, real - 1));
                if (chosen[i].length == 1) {
                    assertThat(chosen[i][0]).isEqualTo(real / 2); // the middle token, not [CLS] or [SEP]
                }
            }
            // evenly over the samples: no sample holds two before every sample holds one
            int most = Arrays.stream(chosen).mapToInt(p -> p.length).max().orElseThrow();
            int least = Arrays.stream(chosen).mapToInt(p -> p.length).min().orElseThrow();
            assertThat(most - least).isLessThanOrEqualTo(1);
        }
        // XLM-RoBERTa's 8 positions: every fourth sample from the first
        int[][] xlmr = HeldPositions.choose(fixedMasks(), 8);
        for (int i = 0; i < 32; i++) {
            assertThat(xlmr[i]).hasSize(i % 4 == 0 ? 1 : 0);
        }
        // short samples give their positions to the others; no more positions than real tokens is no reduction
        int[][] uneven = HeldPositions.choose(masks(1, 10, 2), 7);
        assertThat(uneven[0]).containsExactly(0);
        assertThat(uneven[1]).as("four of the eight interior tokens 1..8").containsExactly(2, 4, 6, 8);
        assertThat(uneven[2]).as("more held than interior tokens: both ends").containsExactly(0, 1);
        assertThat(HeldPositions.choose(masks(3, 4), 7)).isNull();
        assertThat(HeldPositions.choose(masks(3, 4), 6)).isNotNull();
    }

    /**
     * On the real fixed samples tokenized as a BERT-base version's golden pass does (all-MiniLM's tokenizer is
     * bert-base-uncased's), the positions BERT-base (68), RoBERTa/GPT-2 (41) and XLM-RoBERTa (8) hold are never
     * [CLS] or [SEP]: every sample has more interior tokens than it holds. "Hello world." (5 tokens) holds 3 with 68
     * positions: hello, world and the full stop, where spreading over all 5 held [CLS], world and [SEP]. The same
     * samples give the same positions on every call.
     */
    @Test
    void theFixedSamplesHoldNoSpecialTokenWithBertsTokenizer(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws IOException {
        java.nio.file.Path json = dir.resolve("tokenizer.json");
        java.nio.file.Files.write(json, io.aneforge.source.MiniLmSnapshot.resource(
                io.aneforge.source.MiniLmSnapshot.TOKENIZER_RESOURCE));
        List<Map<String, FloatTensor>> inputs;
        try (io.aneforge.tokenizer.NativeTokenizer bert = io.aneforge.tokenizer.NativeTokenizer.load(json)) {
            inputs = io.aneforge.convert.Golden.inputs(bert, io.aneforge.convert.Samples.fixed(), 128);
        }
        List<boolean[]> real = new ArrayList<>();
        for (Map<String, FloatTensor> in : inputs) {
            float[] mask = in.get(Graphs.ATTENTION_MASK).data();
            boolean[] r = new boolean[mask.length];
            for (int p = 0; p < r.length; p++) {
                r[p] = mask[p] != 0;
            }
            real.add(r);
        }
        float[] hello = inputs.get(0).get(Graphs.INPUT_IDS).data();
        assertThat(Arrays.copyOf(hello, 6)).as("[CLS] hello world . [SEP], padding")
                .containsExactly(101, 7592, 2088, 1012, 102, 0);
        for (int total : new int[] {68, 41, 8}) {
            int[][] chosen = HeldPositions.choose(real, total);
            assertThat(HeldPositions.choose(real, total)).as("deterministic").isDeepEqualTo(chosen);
            assertThat(Arrays.stream(chosen).mapToInt(p -> p.length).sum()).isEqualTo(total);
            for (int i = 0; i < chosen.length; i++) {
                float[] ids = inputs.get(i).get(Graphs.INPUT_IDS).data();
                for (int p : chosen[i]) {
                    assertThat(ids[p]).as("sample %d position %d of %d held positions", i, p, total)
                            .isNotIn(101f, 102f, 0f);
                }
            }
        }
        assertThat(HeldPositions.choose(real, 68)[0]).containsExactly(1, 2, 3);
    }

    /** Inputs and outputs of {@code n} samples: logits (1, S, vocab) and hidden states (1, S, 4), padding zeros. */
    static GoldenOutputs[] data(int vocab, int... lengths) {
        List<Map<String, FloatTensor>> in = new ArrayList<>();
        List<Map<String, FloatTensor>> out = new ArrayList<>();
        for (int s = 0; s < lengths.length; s++) {
            float[] mask = new float[S];
            float[] ids = new float[S];
            Arrays.fill(mask, 0, lengths[s], 1);
            for (int p = 0; p < lengths[s]; p++) {
                ids[p] = 100 + p;
            }
            Map<String, FloatTensor> i = new LinkedHashMap<>();
            i.put(Graphs.INPUT_IDS, new FloatTensor(new int[] {1, S}, ids));
            i.put(Graphs.ATTENTION_MASK, new FloatTensor(new int[] {1, S}, mask));
            in.add(i);
            float[] logits = new float[S * vocab];
            float[] hidden = new float[S * 4];
            for (int p = 0; p < lengths[s]; p++) {
                for (int v = 0; v < vocab; v++) {
                    logits[p * vocab + v] = (float) Math.sin(0.37 * v + 1.3 * p + s);
                }
                for (int h = 0; h < 4; h++) {
                    hidden[p * 4 + h] = (float) Math.cos(h + p + 0.5 * s);
                }
            }
            Map<String, FloatTensor> o = new LinkedHashMap<>();
            o.put(Graphs.LOGITS, new FloatTensor(new int[] {1, S, vocab}, logits));
            o.put(Graphs.LAST_HIDDEN_STATE, new FloatTensor(new int[] {1, S, 4}, hidden));
            out.add(o);
        }
        return new GoldenOutputs[] {samples(in), samples(out)};
    }

    static GoldenOutputs samples(List<Map<String, FloatTensor>> maps) {
        List<GoldenOutputs.Sample> out = new ArrayList<>();
        for (int i = 0; i < maps.size(); i++) {
            Map<String, GoldenTensor> m = new LinkedHashMap<>();
            maps.get(i).forEach((name, t) -> m.put(name, GoldenTensor.trimmed(t)));
            out.add(new GoldenOutputs.Sample("sample-" + i, m));
        }
        return new GoldenOutputs(out);
    }

    static List<Map<String, FloatTensor>> expanded(GoldenOutputs g) {
        return g.samples().stream().map(GoldenOutputs.Sample::outputs).toList();
    }

    /**
     * Only per-token outputs at least {@code minWidth} wide are reduced; the reduced blob is version 3, decodes to the
     * held rows, and compares like the whole data at those positions; under a format setting of 2 nothing is reduced.
     */
    @Test
    void reducesOnlyVocabularySizedPerTokenOutputs() throws IOException {
        GoldenOutputs[] d = data(64, 5, 9, 3);
        GoldenOutputs reduced = HeldPositions.reduce(d[0], d[1], 64, 64 * 4);
        GoldenTensor logits0 = reduced.samples().get(0).tensors().get(Graphs.LOGITS);
        assertThat(logits0.holdsSomePositionsOnly()).isTrue();
        assertThat(reduced.samples().stream().mapToInt(s -> s.tensors().get(Graphs.LOGITS).heldPositions().length).sum())
                .isEqualTo(HeldPositions.MIN_POSITIONS); // 4 allowed by the floats, 8 at least
        assertThat(reduced.samples().get(0).tensors().get(Graphs.LAST_HIDDEN_STATE).holdsSomePositionsOnly()).isFalse();
        assertThat(HeldPositions.reduce(d[0], d[1], 65, 64 * 4)).as("narrower than minWidth").isSameAs(d[1]);
        GoldenOutputs[] few = data(64, 2, 3, 3);
        assertThat(HeldPositions.reduce(few[0], few[1], 64, 64 * 4)).as("8 real tokens: nothing saved").isSameAs(few[1]);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(reduced, bytes);
        assertThat(bytes.toByteArray()[4]).isEqualTo((byte) 3);
        GoldenOutputs back = GoldenOutputsCodec.read(new ByteArrayInputStream(bytes.toByteArray()));
        assertThat(back.samples()).isEqualTo(reduced.samples());

        // the variant identical to the golden outputs: perfect at the held positions, which the report names
        Map<String, FidelityReport> f = VariantFidelity.realTokens(back, expanded(d[1]), expanded(d[0]));
        FidelityReport logits = f.get(Graphs.LOGITS);
        assertThat(logits.positions()).isEqualTo(8);
        assertThat(logits.cosineMin()).isEqualTo(1.0);
        assertThat(logits.top1Agreement()).isEqualTo(1.0);
        Map<String, List<Integer>> compared = new LinkedHashMap<>();
        for (GoldenOutputs.Sample s : back.samples()) {
            int[] p = s.tensors().get(Graphs.LOGITS).heldPositions();
            if (p.length > 0) compared.put(s.id(), Arrays.stream(p).boxed().toList());
        }
        assertThat(logits.comparedPositions()).isEqualTo(compared);
        assertThat(f.get(Graphs.LAST_HIDDEN_STATE).positions()).isEqualTo(5 + 9 + 3); // every real token
        assertThat(f.get(Graphs.LAST_HIDDEN_STATE).comparedPositions()).isNull();

        String before = System.getProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
        try {
            System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, "2");
            int[] lengths = new int[17]; // 272 real tokens, more than the 256 positions 8192-wide rows get
            Arrays.fill(lengths, S);
            GoldenOutputs[] wide = data(HeldPositions.MIN_WIDTH, lengths);
            assertThat(HeldPositions.forStorage(wide[0], wide[1])).isSameAs(wide[1]);
            System.clearProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
            org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv(GoldenOutputsCodec.FORMAT_VARIABLE) == null);
            GoldenOutputs stored = HeldPositions.forStorage(wide[0], wide[1]);
            assertThat(stored.samples().get(0).tensors().get(Graphs.LOGITS).holdsSomePositionsOnly())
                    .as(HeldPositions.MIN_WIDTH + " floats per token").isTrue();
            assertThat(stored.heldBytes()).as("held rows, their 256 positions, the hidden states")
                    .isEqualTo(4L * 256 * HeldPositions.MIN_WIDTH + 4L * 256 + 4L * 17 * S * 4);
            GoldenOutputs[] narrower = data(HeldPositions.MIN_WIDTH - 1, lengths);
            assertThat(HeldPositions.forStorage(narrower[0], narrower[1])).isSameAs(narrower[1]);
        } finally {
            if (before == null) System.clearProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
            else System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, before);
        }
    }

    /**
     * A deliberately wrong logit row at a held position fails the comparison (its cosine and top-1 drop); the same
     * error at a position the golden data does not hold is not seen, by design: the reduced golden data cannot tell.
     * The whole golden data sees both.
     */
    @Test
    void aWrongLogitIsSeenAtAHeldPositionAndNotElsewhere() {
        GoldenOutputs[] d = data(64, 9, 9, 9);
        GoldenOutputs reduced = HeldPositions.reduce(d[0], d[1], 64, 64 * 4);
        int[] held = reduced.samples().get(0).tensors().get(Graphs.LOGITS).heldPositions();
        assertThat(held).isNotEmpty();
        int atHeld = held[0];
        int notHeld = java.util.stream.IntStream.range(0, 9).filter(p -> Arrays.stream(held).noneMatch(h -> h == p))
                .findFirst().orElseThrow();

        for (int position : new int[] {atHeld, notHeld}) {
            List<Map<String, FloatTensor>> candidate = new ArrayList<>();
            for (Map<String, FloatTensor> m : expanded(d[1])) {
                Map<String, FloatTensor> copy = new LinkedHashMap<>();
                m.forEach((k, v) -> copy.put(k, new FloatTensor(v.shape(), v.data().clone())));
                candidate.add(copy);
            }
            float[] logits = candidate.get(0).get(Graphs.LOGITS).data();
            for (int v = 0; v < 64; v++) { // the row negated: cosine -1, another argmax
                logits[position * 64 + v] = -logits[position * 64 + v];
            }
            FidelityReport whole = VariantFidelity.realTokens(d[1], candidate, expanded(d[0])).get(Graphs.LOGITS);
            assertThat(whole.passes(0.99)).as("the whole golden data sees position " + position).isFalse();
            FidelityReport f = VariantFidelity.realTokens(reduced, candidate, expanded(d[0])).get(Graphs.LOGITS);
            if (position == atHeld) {
                assertThat(f.cosineMin()).isLessThan(-0.99);
                assertThat(f.top1Agreement()).isLessThan(1.0);
                assertThat(f.passes(0.99)).isFalse();
            } else {
                assertThat(f.cosineMin()).as("position " + position + " is not held: not seen").isEqualTo(1.0);
                assertThat(f.passes(0.99)).isTrue();
                assertThat(f.comparedPositions().get("sample-0")).doesNotContain(position);
            }
        }
    }

    /** A held position the golden inputs mark as padding: the blobs do not belong together, said as such. */
    @Test
    void heldPositionsOnPaddingAreRefused() {
        GoldenOutputs[] d = data(64, 9, 9, 9);
        GoldenOutputs reduced = HeldPositions.reduce(d[0], d[1], 64, 64 * 4);
        GoldenOutputs[] shorter = data(64, 1, 1, 1);
        assertThatThrownBy(() -> VariantFidelity.realTokens(reduced, expanded(d[1]), expanded(shorter[0])))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("marks as padding: the golden inputs and outputs do not belong together");
    }

    /**
     * {@link HeldPositions.Held} is a value: changing the arrays it was built from, or those its accessors hand out,
     * changes neither what it reads back nor what {@link HeldPositions.Held#apply} stores (a golden pass applies one
     * Held to every sample, so a change through one reader would reach the others).
     */
    @Test
    void aHeldValueCannotBeChangedThroughWhatWasPassedInOrHandedOut() {
        GoldenOutputs[] d = data(64, 9, 9, 9);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        d[1].samples().get(0).tensors().forEach((name, t) -> shapes.put(name, t.shape()));
        HeldPositions.Held chosen = HeldPositions.held(d[0], shapes, 64, 64 * 4);
        assertThat(chosen.reducesAny()).isTrue();
        GoldenOutputs.Sample expected = chosen.apply(0, d[1].samples().get(0));

        int[][] logits = chosen.positions().get(Graphs.LOGITS);
        Map<String, int[][]> given = new LinkedHashMap<>(Map.of(Graphs.LOGITS, logits));
        List<boolean[]> real = new ArrayList<>(chosen.real());
        HeldPositions.Held held = new HeldPositions.Held(given, real);
        assertThat(held).isEqualTo(chosen).hasSameHashCodeAs(chosen);

        // what the caller passed in
        logits[0][0] = 8;
        given.put(Graphs.LAST_HIDDEN_STATE, logits);
        real.get(0)[logits[0][1]] = false;
        real.add(new boolean[S]);
        // what the accessors handed out
        held.positions().get(Graphs.LOGITS)[0][0] = 7;
        held.real().get(0)[0] = false;
        held.positions().put("other", new int[3][]); // a copy, free to change

        assertThat(held).isEqualTo(chosen);
        assertThat(held.positions()).containsOnlyKeys(Graphs.LOGITS);
        assertThat(held.positions().get(Graphs.LOGITS)).isDeepEqualTo(chosen.positions().get(Graphs.LOGITS));
        assertThat(held.real()).hasSize(3);
        assertThat(held.real().get(0)).containsExactly(chosen.real().get(0));
        GoldenOutputs.Sample stored = held.apply(0, d[1].samples().get(0));
        assertThat(stored).isEqualTo(expected);
        assertThat(stored.tensors().get(Graphs.LAST_HIDDEN_STATE).holdsSomePositionsOnly()).isFalse();

        // and what apply stored shares no array with the value
        stored.tensors().get(Graphs.LOGITS).heldPositions()[0] = 5;
        assertThat(held.apply(0, d[1].samples().get(0))).isEqualTo(expected);

        assertThatThrownBy(() -> new HeldPositions.Held(Map.of(Graphs.LOGITS, new int[2][]), chosen.real()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("held positions of output 'logits' are given for 2 samples, but the real tokens for 3; give"
                        + " one row of positions per sample, in the samples' order");
    }
}
