package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.graph.Graphs;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Encoding;
import io.aneforge.tokenizer.NativeTokenizer;
import io.aneforge.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Golden#sampleInputs}: the fixed sentences for a model without token types (exactly the inputs they had), the
 * fixed sentence pairs, segment 1 included, for a model that takes {@code token_type_ids}.
 */
class SampleInputsTest {
    @TempDir
    Path dir;

    @Test
    void thirtyTwoPairsBesideTheThirtyTwoSentences() {
        List<Samples.Pair> pairs = Samples.pairs();
        assertThat(pairs).hasSize(32).hasSameSizeAs(Samples.fixed());
        assertThat(pairs).allSatisfy(p -> assertThat(p.second()).isNotBlank());
        assertThat(pairs).anySatisfy(p -> assertThat(p.first()).isEmpty()); // an empty first text: specials only
        assertThat(pairs.get(0)).isEqualTo(new Samples.Pair("What is the capital of France?", "Paris is the capital and"
                + " most populous city of France, with an estimated population of over two million residents."));
    }

    @Test
    void aMalformedPairsFileIsRefusedNamingTheLine() {
        assertThatThrownBy(() -> Samples.pairs("bad-pairs.txt")).isInstanceOf(IllegalStateException.class)
                .hasMessage("resource io/aneforge/convert/bad-pairs.txt: a line must be two texts separated by one tab:"
                        + " no tab on this line");
        assertThatThrownBy(() -> Samples.pairs("absent.txt")).hasMessageContaining("absent.txt is missing");
    }

    /** Without token types: the sentences' inputs, unchanged (golden data and pinned digests keep their bytes). */
    @Test
    void aModelWithoutTokenTypesKeepsItsSentences() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("minilm"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        assertThat(model.tokenTypeInput()).isFalse();
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> samples = Golden.sampleInputs(model, tok, 32, 128);
            List<Map<String, FloatTensor>> sentences = Golden.inputs(tok, Samples.fixed(), 128);
            assertThat(bytes(samples)).isEqualTo(bytes(sentences));
            assertThat(samples.get(0)).containsOnlyKeys(Graphs.INPUT_IDS, Graphs.ATTENTION_MASK);
            assertThat(bytes(Golden.sampleInputs(model, tok, 3, 128))).isEqualTo(bytes(sentences.subList(0, 3)));
        }
    }

    /**
     * With token types: every sample is a pair with tokens in segment 1, as the tokenizer encodes it, at the default
     * length and at a short one that truncates the long pairs; the pure-Java tokenizer gives the same bytes.
     */
    @Test
    void aModelWithTokenTypesIsMeasuredOnPairsThatReachSegmentOne() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("minilm"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null)).withTokenTypeInput();
        Path tokenizer = snap.resolve("tokenizer.json");
        try (Tokenizer tok = NativeTokenizer.load(tokenizer); Tokenizer java = Tokenizer.loadPureJava(tokenizer)) {
            for (int seqLen : new int[] {128, 16}) {
                List<Map<String, FloatTensor>> samples = Golden.sampleInputs(model, tok, 32, seqLen);
                assertThat(samples).hasSize(32);
                int truncated = 0;
                for (int i = 0; i < 32; i++) {
                    Samples.Pair p = Samples.pairs().get(i);
                    Encoding e = tok.encodePair(p.first(), p.second(), seqLen);
                    Map<String, FloatTensor> in = samples.get(i);
                    assertThat(in).containsOnlyKeys(Graphs.INPUT_IDS, Graphs.ATTENTION_MASK, Graphs.TOKEN_TYPE_IDS);
                    assertThat(in.get(Graphs.INPUT_IDS).data()).containsExactly(floats(e.ids()));
                    assertThat(in.get(Graphs.ATTENTION_MASK).data()).containsExactly(floats(e.attentionMask()));
                    assertThat(in.get(Graphs.TOKEN_TYPE_IDS).data()).as("sample %d @%d", i, seqLen)
                            .containsExactly(floats(e.typeIds())).contains(1f);
                    truncated += e.length() == seqLen ? 1 : 0;
                }
                // at the default length every pair is whole; at 16 most are cut, longest first
                if (seqLen == 128) {
                    assertThat(truncated).as("pairs filling %d tokens", seqLen).isZero();
                } else {
                    assertThat(truncated).as("pairs filling %d tokens", seqLen).isGreaterThan(20);
                }
                assertThat(bytes(Golden.sampleInputs(model, java, 32, seqLen))).as("pure-Java tokenizer @%d", seqLen)
                        .isEqualTo(bytes(samples));
            }
        }
    }

    /**
     * tokenizer.json's OnlyFirst/OnlySecond refuse some fixed pairs at short lengths (7 and 15 of them at 16 for
     * MiniLM): the samples are still 32, each pair the file's strategy fits is cut by it and each it refuses is cut
     * longest first, the same with both tokenizers; a length below the template's specials is still refused.
     */
    @Test
    void fixedPairsTheFileStrategyRefusesAreCutLongestFirst() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("minilm"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null)).withTokenTypeInput();
        tools.jackson.databind.json.JsonMapper json = tools.jackson.databind.json.JsonMapper.builder().build();
        for (String strategy : List.of("OnlySecond", "OnlyFirst")) {
            tools.jackson.databind.node.ObjectNode tokenizerJson = (tools.jackson.databind.node.ObjectNode)
                    json.readTree(MiniLmSnapshot.resource(MiniLmSnapshot.TOKENIZER_RESOURCE));
            tokenizerJson.set("truncation", json.readTree("{\"direction\":\"Right\",\"max_length\":384,"
                    + "\"strategy\":\"" + strategy + "\",\"stride\":0}"));
            Path file = java.nio.file.Files.writeString(dir.resolve(strategy + ".json"),
                    json.writeValueAsString(tokenizerJson));
            try (Tokenizer tok = NativeTokenizer.load(file); Tokenizer java = Tokenizer.loadPureJava(file)) {
                for (int seqLen : new int[] {16, 32}) {
                    List<Map<String, FloatTensor>> samples = Golden.sampleInputs(model, tok, 32, seqLen);
                    assertThat(samples).hasSize(32);
                    int refused = 0;
                    for (int i = 0; i < 32; i++) {
                        Samples.Pair p = Samples.pairs().get(i);
                        Encoding e;
                        try {
                            e = tok.encodePair(p.first(), p.second(), seqLen);
                        } catch (IllegalArgumentException byTheStrategy) {
                            refused++;
                            e = tok.encodePairLongestFirst(p.first(), p.second(), seqLen);
                        }
                        assertThat(samples.get(i).get(Graphs.INPUT_IDS).data()).as("%s sample %d @%d", strategy, i,
                                seqLen).containsExactly(floats(e.ids()));
                        assertThat(samples.get(i).get(Graphs.TOKEN_TYPE_IDS).data())
                                .containsExactly(floats(e.typeIds()));
                    }
                    // the counts the review measured with both tokenizers
                    assertThat(refused).as("%s @%d", strategy, seqLen).isEqualTo(strategy.equals("OnlySecond")
                            ? (seqLen == 16 ? 7 : 1) : (seqLen == 16 ? 15 : 2));
                    assertThat(bytes(Golden.sampleInputs(model, java, 32, seqLen))).as("pure-Java tokenizer @%d",
                            seqLen).isEqualTo(bytes(samples));
                }
                assertThatThrownBy(() -> Golden.sampleInputs(model, tok, 32, 2))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("special tokens");
            }
        }
    }

    /**
     * The golden outputs of a model with token types on the pairs: the same bytes on every run and thread count, and
     * not those of the same pairs read as segment 0 (the second segment's row is exercised).
     */
    @Test
    void goldenDataOnPairsIsDeterministicAndDependsOnTheSegments() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 5);
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(bert, null)).withTokenTypeInput();
        try (Tokenizer tok = Tokenizer.load(bert.resolve("tokenizer.json"))) {
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, 16);
            byte[] once = bytes(Golden.fullLength(model, in, ProgramEvaluator.runtime(1)));
            byte[] again = bytes(Golden.fullLength(model, Golden.sampleInputs(model, tok, 32, 16),
                    ProgramEvaluator.runtime(2)));
            assertThat(again).isEqualTo(once);
            List<Map<String, FloatTensor>> segmentZero = in.stream().map(m -> {
                Map<String, FloatTensor> z = new java.util.LinkedHashMap<>(m);
                FloatTensor t = m.get(Graphs.TOKEN_TYPE_IDS);
                z.put(Graphs.TOKEN_TYPE_IDS, new FloatTensor(t.shape(), new float[t.size()]));
                return z;
            }).toList();
            assertThat(bytes(Golden.fullLength(model, segmentZero, ProgramEvaluator.runtime(1)))).isNotEqualTo(once);
        }
    }

    private static byte[] bytes(List<Map<String, FloatTensor>> samples) throws Exception {
        return bytes(Golden.samples(samples));
    }

    private static byte[] bytes(GoldenOutputs g) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, out);
        return out.toByteArray();
    }

    private static float[] floats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }
}
