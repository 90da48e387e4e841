package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.graph.Graphs;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Golden#fullLength}: the golden outputs blob the converter worker's golden step and {@code ./aneforge convert}
 * both store (each calls this function, and {@code ConvertCommandTest} / {@code ConversionEndToEndTest} check their
 * bytes against it), on the real all-MiniLM-L6-v2 with every fixed sample at the default sequence length.
 */
class GoldenTest {

    private static final int SEQ = 128;

    @TempDir
    Path dir;

    @Test
    void miniLmGoldenBlobIsTheWholeGraphOnRealTokensAndZeroAtPaddingWhateverTheThreadCount() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("minilm"));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<Map<String, FloatTensor>> inputs;
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            inputs = Golden.inputs(tok, Samples.fixed(), SEQ);
        }
        // The worker runs with one kernel thread per core, convert with its --threads: the bytes must not depend on it.
        GoldenOutputs golden = Golden.fullLength(model, inputs, ProgramEvaluator.runtime(1));
        // Held: last_hidden_state (1, 128, 384) on the fixed samples' 615 real tokens only, not 4096 positions.
        assertThat(golden.outputNames()).containsExactly(Graphs.LAST_HIDDEN_STATE);
        assertThat(golden.samples().get(0).tensors().get(Graphs.LAST_HIDDEN_STATE).shape()).containsExactly(1, SEQ, 384);
        assertThat(golden.heldBytes()).isEqualTo(4L * 615 * 384);
        byte[] oneThread = bytes(golden);
        byte[] twoThreads = bytes(Golden.fullLength(model, inputs, ProgramEvaluator.runtime(2)));
        assertThat(twoThreads).isEqualTo(oneThread);

        // The samples on prefixes of 16, 32 and 64 positions (the one sample at 48 with the longest, at 64) give the
        // bytes of every sample on the longest one's, the single prefix the golden pass ran on before.
        SamplePrefix own = SamplePrefix.of(inputs);
        SamplePrefix common = SamplePrefix.common(inputs);
        assertThat(own.lengths()).containsOnly(16, 32, 64);
        assertThat(java.util.Arrays.stream(own.lengths()).filter(l -> l == 16).count()).isEqualTo(11);
        assertThat(common.lengths()).containsOnly(64);
        List<Map<String, GoldenTensor>> onCommon = common.realTokens(Golden.compute(model, common,
                ProgramEvaluator.runtime()).samples().stream().map(GoldenOutputs.Sample::outputs).toList());
        List<GoldenOutputs.Sample> commonSamples = new ArrayList<>();
        for (int i = 0; i < onCommon.size(); i++) {
            commonSamples.add(new GoldenOutputs.Sample(Golden.sampleId(i), onCommon.get(i)));
        }
        assertThat(bytes(new GoldenOutputs(commonSamples))).as("per-sample prefixes against one common prefix")
                .isEqualTo(oneThread);

        // What the worker stored before: the whole FP32 graph at every position, padding included.
        List<Map<String, FloatTensor>> whole = ProgramEvaluator.runtime().runAll(
                VariantConverter.build(model, Golden.referenceSpec(SEQ)).program(), inputs);
        List<Map<String, FloatTensor>> zeroed = new ArrayList<>();
        int padded = 0;
        for (int i = 0; i < whole.size(); i++) {
            float[] mask = inputs.get(i).get(Graphs.ATTENTION_MASK).data();
            Map<String, FloatTensor> m = new LinkedHashMap<>();
            for (Map.Entry<String, FloatTensor> e : whole.get(i).entrySet()) {
                FloatTensor t = e.getValue();
                if (t.shape().length < 3) { // pooler_output (1, 384): no sequence axis, kept whole
                    m.put(e.getKey(), t);
                    continue;
                }
                float[] data = t.data().clone();
                int row = t.size() / SEQ;
                for (int p = 0; p < SEQ; p++) {
                    if (mask[p] == 0) {
                        java.util.Arrays.fill(data, p * row, (p + 1) * row, 0f);
                        padded++;
                    }
                }
                m.put(e.getKey(), new FloatTensor(t.shape(), data));
            }
            zeroed.add(m);
        }
        assertThat(padded).as("padded positions among the fixed samples").isGreaterThan(32 * SEQ / 2);
        assertThat(oneThread).as("the whole graph's bytes on real tokens, 0 at padding")
                .isEqualTo(bytes(Golden.samples(zeroed)));
        // The padding is what made the worker's and convert's blobs differ: zeroing it must change the bytes.
        assertThat(oneThread).isNotEqualTo(bytes(Golden.samples(whole)));
    }

    /**
     * What the golden outputs of a GPT-2-sized vocabulary hold, at the fixed samples' real-token count (all-MiniLM's
     * tokenizer, seq 128: 615 real tokens of 4096 positions): each sample's logits up to its last real token, in
     * {@code Golden.fullLength}'s output and after a format 2 blob of it is decoded. Before, both held every position.
     * Held bytes are linear in the vocabulary (4 per position per entry), so a small one gives GPT-2's figure exactly.
     */
    @Test
    void gpt2SizedLogitsHoldTheFixedSamplesRealTokensOnly() throws Exception {
        Path snap = MiniLmSnapshot.write(dir.resolve("minilm"));
        List<Map<String, FloatTensor>> inputs;
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            inputs = Golden.inputs(tok, Samples.fixed(), SEQ);
        }
        int real = 0;
        for (Map<String, FloatTensor> in : inputs) {
            for (float m : in.get(Graphs.ATTENTION_MASK).data()) {
                real += m != 0 ? 1 : 0;
            }
        }
        assertThat(inputs).hasSize(32);
        assertThat(real).isEqualTo(615);

        int vocab = 64;
        SamplePrefix prefix = SamplePrefix.of(inputs);
        List<Map<String, FloatTensor>> logits = new ArrayList<>(); // on the prefix, as the FP32 graph gives them
        for (int i = 0; i < inputs.size(); i++) {
            int length = prefix.lengths()[i];
            float[] data = new float[length * vocab];
            java.util.Arrays.fill(data, 1f + i);
            logits.add(Map.of(Graphs.LOGITS, new FloatTensor(new int[] {1, length, vocab}, data)));
        }
        List<Map<String, GoldenTensor>> tensors = prefix.realTokens(logits); // what Golden.fullLength holds
        List<GoldenOutputs.Sample> samples = new ArrayList<>();
        for (int i = 0; i < tensors.size(); i++) {
            samples.add(new GoldenOutputs.Sample(Golden.sampleId(i), tensors.get(i)));
        }
        GoldenOutputs held = new GoldenOutputs(samples);
        long before = 0;
        for (Map<String, FloatTensor> m : prefix.fullLength(logits)) {
            before += 4L * m.get(Graphs.LOGITS).size();
        }
        assertThat(before).isEqualTo(4L * 32 * SEQ * vocab);
        assertThat(held.heldBytes()).isEqualTo(4L * real * vocab);
        GoldenOutputs decoded = GoldenOutputsCodec.read(new java.io.ByteArrayInputStream(bytes(held)));
        assertThat(decoded.heldBytes()).isEqualTo(held.heldBytes());
        assertThat(decoded.samples().get(0).tensors().get(Graphs.LOGITS).shape()).containsExactly(1, SEQ, vocab);

        long gpt2Vocab = 50257;
        assertThat(before / vocab * gpt2Vocab).as("GPT-2 logits at every position: what was held before")
                .isEqualTo(823_410_688L);
        assertThat(decoded.heldBytes() / vocab * gpt2Vocab).as("GPT-2 logits on the real tokens: what is held now")
                .isEqualTo(123_632_220L);
    }

    private static byte[] bytes(GoldenOutputs golden) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out);
        return out.toByteArray();
    }
}
