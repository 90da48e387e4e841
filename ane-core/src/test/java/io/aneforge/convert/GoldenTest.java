package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.GoldenOutputs;
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
        byte[] oneThread = bytes(Golden.fullLength(model, inputs, ProgramEvaluator.runtime(1)));
        byte[] twoThreads = bytes(Golden.fullLength(model, inputs, ProgramEvaluator.runtime(2)));
        assertThat(twoThreads).isEqualTo(oneThread);

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

    private static byte[] bytes(GoldenOutputs golden) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(golden, out);
        return out.toByteArray();
    }
}
