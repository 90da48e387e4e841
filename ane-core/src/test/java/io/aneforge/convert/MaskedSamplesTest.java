package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.graph.Graphs;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.testsupport.models.TinyTokenizers;
import io.aneforge.tokenizer.Encoding;
import io.aneforge.tokenizer.MaskToken;
import io.aneforge.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MaskedSamples}: a masked LM's fixed samples carry its tokenizer's mask token at the positions its golden data
 * holds (a reduced output) or at about 15 % of each sample's tokens (a whole one), never at a special token or
 * padding; every other model's samples are the texts as tokenized ({@code UnmaskedGoldenBytesTest} pins their bytes).
 */
class MaskedSamplesTest {
    static final int WORD_PIECE_MASK = TinyTokenizers.wordPieceVocab().indexOf("[MASK]");
    static final Set<Integer> WORD_PIECE_SPECIALS = Set.of(TinyTokenizers.wordPieceVocab().indexOf("[CLS]"),
            TinyTokenizers.wordPieceVocab().indexOf("[SEP]"));

    @TempDir
    Path dir;

    /**
     * A masked LM with a vocabulary of {@link HeldPositions#MIN_WIDTH} (2^21 / V = 256 positions of the fixed samples'
     * real tokens at seq 16): the golden data `convert` and the worker store ({@code Golden.fullLength},
     * {@code HeldPositions.forStorage}) holds its logits exactly where the inputs carry [MASK], except the [CLS] and
     * [SEP] of the short samples that hold more positions than they have other tokens, which stay as they are; the
     * attention masks are the plain samples', the other ids too.
     */
    @Test
    void aReducedOutputIsHeldExactlyAtTheMaskedTokens() throws Exception {
        Path mlm = TinyModels.maskedLm(dir.resolve("mlm"), 3, HeldPositions.MIN_WIDTH);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(mlm, null));
        try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
            assertThat(MaskedSamples.maskToken(model, tok)).contains(new MaskToken("[MASK]", WORD_PIECE_MASK));
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, 16);
            List<Map<String, FloatTensor>> plain = Golden.inputs(tok, Samples.fixed(), 16);
            GoldenOutputs inputs = Golden.samples(in);
            GoldenOutputs stored = HeldPositions.forStorage(inputs, Golden.fullLength(model, in,
                    ProgramEvaluator.runtime(1)));
            int masked = 0;
            int specialsHeld = 0;
            for (int i = 0; i < 32; i++) {
                float[] ids = in.get(i).get(Graphs.INPUT_IDS).data();
                float[] plainIds = plain.get(i).get(Graphs.INPUT_IDS).data();
                assertThat(in.get(i).get(Graphs.ATTENTION_MASK).data())
                        .containsExactly(plain.get(i).get(Graphs.ATTENTION_MASK).data());
                int[] held = stored.samples().get(i).tensors().get(Graphs.LOGITS).heldPositions();
                assertThat(held).as("sample %d holds some positions", i).isNotNull().isNotEmpty();
                List<Integer> maskedHere = new ArrayList<>();
                for (int p = 0; p < ids.length; p++) {
                    if (ids[p] == WORD_PIECE_MASK) {
                        maskedHere.add(p);
                    } else {
                        assertThat(ids[p]).as("sample %d position %d", i, p).isEqualTo(plainIds[p]);
                    }
                }
                for (int p : held) {
                    if (!maskedHere.contains(p)) {
                        assertThat((int) plainIds[p]).as("sample %d holds position %d unmasked", i, p)
                                .isIn(WORD_PIECE_SPECIALS);
                        specialsHeld++;
                    }
                }
                assertThat(Arrays.stream(held).boxed().toList()).as("sample %d", i).containsAll(maskedHere);
                masked += maskedHere.size();
            }
            assertThat(masked + specialsHeld).isEqualTo(HeldPositions.MAX_FLOATS / HeldPositions.MIN_WIDTH);
            assertThat(specialsHeld).as("the few short samples' ends").isBetween(1, 20);
            // the first samples are the same whatever the count (eval --samples, fidelity's first 8)
            assertThat(Golden.sampleInputs(model, tok, 3, 16)).hasSize(3).allSatisfy(m -> assertThat(m)
                    .containsOnlyKeys(Graphs.INPUT_IDS, Graphs.ATTENTION_MASK));
            List<Map<String, FloatTensor>> three = Golden.sampleInputs(model, tok, 3, 16);
            for (int i = 0; i < 3; i++) {
                assertThat(three.get(i).get(Graphs.INPUT_IDS).data()).containsExactly(in.get(i).get(Graphs.INPUT_IDS).data());
            }
        }
    }

    /**
     * On the real fixed samples and sentence pairs tokenized as a BERT-base version's golden pass does (all-MiniLM's
     * tokenizer is bert-base-uncased's) at the default length, for BERT-base (68 held positions), RoBERTa/GPT-2-sized
     * (41) and XLM-RoBERTa-sized (8) vocabularies: the sentences' masked positions are exactly
     * {@link HeldPositions#positions}, no sentence holds a special token. A pair's held positions may fall on its
     * middle [SEP], which stays unmasked (the agents then compare that [SEP] too): 4 of BERT-base's 68, 4 of 41, 1 of
     * 8 (only BERT-style models take pairs: RoBERTa's and XLM-RoBERTa's have one token type). Pairs are masked in both
     * segments.
     */
    @Test
    void atTheDefaultLengthTheMaskedPositionsAreTheHeldOnesButAPairsMiddleSeparator() throws Exception {
        Path json = Files.write(dir.resolve("tokenizer.json"), MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
        try (Tokenizer bert = Tokenizer.load(json)) {
            List<Encoding> sentences = new ArrayList<>();
            for (String s : Samples.fixed()) {
                sentences.add(bert.encode(s, 128));
            }
            List<Encoding> pairs = new ArrayList<>();
            for (Samples.Pair p : Samples.pairs()) {
                pairs.add(Golden.encodeSamplePair(bert, p, 128));
            }
            assertThat(MaskedSamples.specialIds(bert, false, 128)).containsExactlyInAnyOrder(101, 102);
            assertThat(MaskedSamples.specialIds(bert, true, 128)).containsExactlyInAnyOrder(101, 102);
            Map<Integer, Integer> separatorsHeld = new TreeMap<>();
            for (int vocab : new int[] {30522, 50265, 250_002}) {
                int[][] held = HeldPositions.positions(MaskedSamples.realTokens(sentences), vocab, HeldPositions.MIN_WIDTH,
                        HeldPositions.MAX_FLOATS);
                assertThat(MaskedSamples.positions(sentences, Set.of(101, 102), vocab, HeldPositions.MIN_WIDTH,
                        HeldPositions.MAX_FLOATS)).as("sentences, V = %d", vocab).isDeepEqualTo(held);
                int[][] pairsHeld = HeldPositions.positions(MaskedSamples.realTokens(pairs), vocab, HeldPositions.MIN_WIDTH,
                        HeldPositions.MAX_FLOATS);
                int[][] pairsMasked = MaskedSamples.positions(pairs, Set.of(101, 102), vocab, HeldPositions.MIN_WIDTH,
                        HeldPositions.MAX_FLOATS);
                int unmasked = 0;
                for (int i = 0; i < pairs.size(); i++) {
                    List<Integer> masked = Arrays.stream(pairsMasked[i]).boxed().toList();
                    assertThat(Arrays.stream(pairsHeld[i]).boxed().toList()).containsAll(masked);
                    for (int p : pairsHeld[i]) {
                        if (!masked.contains(p)) {
                            Encoding e = pairs.get(i);
                            assertThat(e.ids()[p]).as("pair %d position %d", i, p).isEqualTo(102);
                            assertThat(e.typeIds()[p]).as("the first segment's [SEP]").isZero();
                            assertThat(p).isLessThan(e.length() - 1);
                            unmasked++;
                        }
                    }
                }
                separatorsHeld.put(vocab, unmasked);
            }
            assertThat(separatorsHeld).as("middle [SEP]s held, by V").isEqualTo(Map.of(30522, 4, 50265, 4, 250_002, 1));
            int[][] masked = MaskedSamples.positions(pairs, Set.of(101, 102), 30522, HeldPositions.MIN_WIDTH,
                    HeldPositions.MAX_FLOATS);
            Set<Integer> segments = new HashSet<>();
            for (int i = 0; i < masked.length; i++) {
                for (int p : masked[i]) {
                    segments.add(pairs.get(i).typeIds()[p]);
                }
            }
            assertThat(segments).as("segments of the masked tokens").containsExactlyInAnyOrder(0, 1);
        }
    }

    /**
     * A masked LM whose logits are kept whole (a vocabulary below {@link HeldPositions#MIN_WIDTH}): about 15 % of each
     * sample's tokens besides [CLS] and [SEP], at least one, spread evenly; never a special token or padding, for
     * sentences and for sentence pairs (a pre-training head with next-sentence prediction), whose masks fall in both
     * segments. The golden pass runs on them.
     */
    @Test
    void aWholeOutputMasksABoundedShareOfEachSample() throws Exception {
        Path mlm = TaskHeadConversionTest.checkpoint(dir.resolve("mlm"), "bert", "MaskedLM", List.of(),
                TaskHeadConversionTest.VOCAB, 5);
        Path pre = TaskHeadConversionTest.checkpoint(dir.resolve("pre"), "bert", "PreTraining", List.of(),
                TaskHeadConversionTest.VOCAB, 6);
        for (ImportedModel model : List.of(ModelImporter.importWeights(ModelSnapshot.of(mlm, null)),
                ModelImporter.importWeights(ModelSnapshot.of(pre, null)).withTokenTypeInput())) {
            try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
                List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, 24);
                int[] segmentsMasked = new int[2];
                for (int i = 0; i < 32; i++) {
                    Encoding plain = model.tokenTypeInput()
                            ? Golden.encodeSamplePair(tok, Samples.pairs().get(i), 24)
                            : tok.encode(Samples.fixed().get(i), 24);
                    float[] ids = in.get(i).get(Graphs.INPUT_IDS).data();
                    int others = 0;
                    int masked = 0;
                    for (int p = 0; p < ids.length; p++) {
                        boolean special = WORD_PIECE_SPECIALS.contains(plain.ids()[p]);
                        others += plain.attentionMask()[p] == 1 && !special ? 1 : 0;
                        if (ids[p] == WORD_PIECE_MASK) {
                            assertThat(plain.attentionMask()[p]).as("sample %d: a real token", i).isEqualTo(1);
                            assertThat(special).as("sample %d position %d is [CLS] or [SEP]", i, p).isFalse();
                            masked++;
                            segmentsMasked[plain.typeIds()[p]]++;
                        } else {
                            assertThat(ids[p]).isEqualTo(plain.ids()[p]);
                        }
                    }
                    int expected = others == 0 ? 0 : Math.max(1, (others * 15 + 50) / 100); // 15 %, half up
                    assertThat(masked).as("sample %d: of %d tokens", i, others).isEqualTo(expected);
                }
                if (model.tokenTypeInput()) {
                    assertThat(Math.min(segmentsMasked[0], segmentsMasked[1])).as("masks in the segment masked least").isPositive();
                }
                GoldenOutputs golden = Golden.fullLength(model, in, ProgramEvaluator.runtime(1));
                assertThat(golden.samples()).hasSize(32);
                assertThat(HeldPositions.forStorage(Golden.samples(in), golden)).as("kept whole").isSameAs(golden);
            }
        }
    }

    /**
     * The spreading rule where every real token is kept: the {@code ⌊(2j+1)·n/2k⌋}-th of the sample's n tokens besides
     * its special ones, k = 15 % of n rounded, at least 1; a sample of specials alone holds none.
     */
    @Test
    void theBoundedShareIsSpreadAsHeldPositionsAre() {
        int[] ids = {2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 3, 0}; // [CLS], 13 tokens, [SEP], padding
        int[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
        Encoding thirteen = new Encoding(ids, mask, 15);
        Encoding empty = new Encoding(new int[] {2, 3, 0, 0}, new int[] {1, 1, 0, 0}, 2);
        Encoding one = new Encoding(new int[] {2, 10, 3, 0}, new int[] {1, 1, 1, 0}, 3);
        int[][] p = MaskedSamples.positions(List.of(thirteen, empty, one), WORD_PIECE_SPECIALS, 64, 8192,
                HeldPositions.MAX_FLOATS);
        // 13 tokens: k = round(1.95) = 2, the ⌊13/4⌋ = 3rd and ⌊39/4⌋ = 9th of them, positions 4 and 10
        assertThat(p[0]).containsExactly(4, 10);
        assertThat(p[1]).isEmpty();
        assertThat(p[2]).containsExactly(1);
        List<Encoding> masked = MaskedSamples.mask(List.of(thirteen, empty, one), 4, p);
        assertThat(masked.get(0).ids()).containsExactly(2, 10, 11, 12, 4, 14, 15, 16, 17, 18, 4, 20, 21, 22, 3, 0);
        assertThat(masked.get(0).attentionMask()).containsExactly(mask);
        assertThat(ids[4]).as("the input is not changed").isEqualTo(13);
    }

    /**
     * Only masked-LM heads are masked; a masked LM whose tokenizer.json has no mask token keeps the plain samples, and
     * the note `convert` and the worker print says so and names the way out.
     */
    @Test
    void aTokenizerWithoutAMaskTokenKeepsThePlainSamplesWithANote() throws Exception {
        Path mlm = TaskHeadConversionTest.checkpoint(dir.resolve("mlm"), "bert", "MaskedLM", List.of(),
                TaskHeadConversionTest.VOCAB, 5);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(mlm, null));
        Path classifier = TaskHeadConversionTest.checkpoint(dir.resolve("classifier"), "bert", "SequenceClassification",
                List.of("NEGATIVE", "POSITIVE"), 2, 11);
        ImportedModel notMasked = ModelImporter.importWeights(ModelSnapshot.of(classifier, null));
        // the [MASK] entry renamed: no mask token left
        Path noMask = Files.writeString(dir.resolve("no-mask.json"), TinyTokenizers.wordPieceJson()
                .replace("\"[MASK]\"", "\"[MASK_]\""));
        try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json")); Tokenizer without = Tokenizer.load(noMask)) {
            assertThat(without.maskToken()).isEmpty();
            assertThat(MaskedSamples.maskToken(notMasked, tok)).isEmpty();
            assertThat(MaskedSamples.plainSamplesNote(notMasked, without)).isEmpty();
            assertThat(MaskedSamples.plainSamplesNote(model, tok)).isEmpty();
            assertThat(MaskedSamples.plainSamplesNote(model, without)).contains("note: tokenizer.json has no mask token"
                    + " ([MASK] or <mask>), so this fill-mask model's golden data and fidelity are measured on the plain"
                    + " fixed samples: its logits are compared at ordinary tokens, where a masked LM mostly predicts the"
                    + " token itself, not at masked ones; convert it with the tokenizer.json its model was trained with"
                    + " (a special added [MASK] or <mask>) to measure masked tokens");
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, without, 32, 16);
            List<Map<String, FloatTensor>> plain = Golden.inputs(without, Samples.fixed(), 16);
            for (int i = 0; i < 32; i++) {
                assertThat(in.get(i).get(Graphs.INPUT_IDS).data()).containsExactly(plain.get(i).get(Graphs.INPUT_IDS).data());
            }
        }
    }
}
