package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calibration's batches on sequence prefixes ({@link SamplePrefix#of}) give the statistics of the whole program
 * ({@link SamplePrefix#whole}, what calibration ran before): the same sums (fingerprint, so the same GPTQ bytes) and
 * the same activation ranges (W8A8's scales), on the real all-MiniLM-L6-v2 at seq 128 and a tiny causal GPT-2.
 */
class CalibrationPrefixTest {

    @TempDir
    Path dir;

    @Test
    void prefixStatisticsAreTheWholeProgramsOnMiniLmAndGpt2() throws Exception {
        Path minilm = MiniLmSnapshot.write(dir.resolve("minilm"));
        assertSameStatistics(ModelImporter.importWeights(ModelSnapshot.of(minilm, null)), minilm, 128,
                Calibration.texts());
        // the tiny byte-level tokenizer makes a token of nearly every character: the texts' first 24 characters
        Path gpt2 = TinyModels.gpt2(dir.resolve("gpt2"), 9);
        assertSameStatistics(ModelImporter.importWeights(ModelSnapshot.of(gpt2, null)), gpt2, TinyModels.POSITIONS,
                Calibration.texts().stream().map(t -> t.substring(0, Math.min(24, t.length()))).toList());
    }

    private static void assertSameStatistics(ImportedModel model, Path snapshot, int seqLen, List<String> texts)
            throws Exception {
        List<Map<String, FloatTensor>> inputs;
        try (Tokenizer tok = Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            inputs = Calibration.inputs(model, tok, texts, seqLen);
        }
        // most batches' texts are short: they run on a prefix shorter than the sequence
        int shorter = 0;
        int batches = 0;
        for (int b0 = 0; b0 < inputs.size(); b0 += 1024 / seqLen, batches++) {
            List<Map<String, FloatTensor>> batch = inputs.subList(b0, Math.min(inputs.size(), b0 + 1024 / seqLen));
            shorter += SamplePrefix.of(batch).longest() < seqLen ? 1 : 0;
        }
        assertThat(shorter).as("batches on a shorter prefix, of " + batches).isGreaterThan(batches / 2);
        ProgramEvaluator runtime = ProgramEvaluator.runtime();
        Calibration cut = Calibration.measure(model, inputs, seqLen, runtime);
        Calibration whole = Calibration.measure(model, inputs, seqLen, runtime, SamplePrefix::whole);
        assertThat(cut.fingerprint()).isEqualTo(whole.fingerprint());
        assertThat(cut.tokens()).isEqualTo(whole.tokens());
        assertThat(cut.weights()).isEqualTo(whole.weights()).isPositive();
        // every sum is in the fingerprint; the ranges and sums compared by name here are those of the weights the
        // checkpoint names as the graph does (all of MiniLM's; GPT-2's Conv1D weights are renamed on import)
        int compared = 0;
        for (String weight : model.weights().keySet()) {
            assertThat(cut.range(weight)).as(weight).isEqualTo(whole.range(weight));
            if (whole.of(weight) != null) {
                assertThat(cut.of(weight).sums()).as(weight).isEqualTo(whole.of(weight).sums());
                compared++;
            }
        }
        assertThat(compared).as("weights with statistics compared by name").isPositive();
    }
}
