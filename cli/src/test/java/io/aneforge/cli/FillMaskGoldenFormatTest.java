package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.convert.Golden;
import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.convert.Samples;
import io.aneforge.convert.VariantFidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.model.ModelImporter;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.runtime.reference.ReferenceRuntime;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.testsupport.models.TinyTokenizers;
import io.aneforge.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fill-mask model with a vocabulary past {@link HeldPositions#MIN_WIDTH}: {@code convert} writes its golden outputs
 * in format 3 (logits at a bounded set of real tokens), prints and records the same fidelity as with every position
 * kept ({@code ANEFORGE_GOLDEN_FORMAT=2}), and the written package compared against the stored golden data with the
 * comparison an agent's {@code GoldenComparison} makes for a masked output ({@code VariantFidelity.realTokens}, whose
 * reports the agent's sample-by-sample parts give float for float, called here directly on every golden input run
 * through the reference runtime; the agent's own path, its store and job executor, is not exercised here:
 * device-agent's GoldenComparisonTest does) agrees at the held positions, which the report names. The golden inputs
 * carry [MASK] at the held positions ({@code MaskedSamples}); a masked LM whose tokenizer.json has no mask token is
 * measured on the plain samples, and {@code convert} says so.
 */
class FillMaskGoldenFormatTest {
    static final int VOCAB = 16384; // 128 held positions (2^21 / V) of the fixed samples' real tokens at seq 12
    static final int SEQ = 12;

    @TempDir
    static Path dir;

    static Cli convert(Path source, Path out) {
        Cli c = Cli.run("convert", "--source", source.toString(), "--out", out.toString(), "--chips", "M4",
                "--seq-len", String.valueOf(SEQ), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        return c;
    }

    static byte[] codec(GoldenOutputs g) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        GoldenOutputsCodec.write(g, out);
        return out.toByteArray();
    }

    static GoldenOutputs read(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return GoldenOutputsCodec.read(in);
        }
    }

    @Test
    void convertWritesFormatThreeWithTheSameFidelityAndAnAgentComparesTheHeldPositions() throws Exception {
        Path mlm = TinyModels.maskedLm(dir.resolve("mlm"), 29, VOCAB);
        Path reduced = dir.resolve("out-3");
        Path whole = dir.resolve("out-2");
        String before = System.getProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
        Cli three;
        Cli two;
        try {
            System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, "3");
            three = convert(mlm, reduced);
            System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, "2");
            two = convert(mlm, whole);
        } finally {
            if (before == null) System.clearProperty(GoldenOutputsCodec.FORMAT_PROPERTY);
            else System.setProperty(GoldenOutputsCodec.FORMAT_PROPERTY, before);
        }
        // the fidelity convert prints and records comes from its own comparison, not from the stored golden data
        VariantsManifest m3 = VariantsManifest.read(reduced.resolve("variants.json"));
        VariantsManifest m2 = VariantsManifest.read(whole.resolve("variants.json"));
        assertThat(m3.variants()).hasSameSizeAs(m2.variants());
        for (int i = 0; i < m3.variants().size(); i++) {
            assertThat(m3.variants().get(i).fidelity()).isEqualTo(m2.variants().get(i).fidelity());
            assertThat(m3.variants().get(i).fidelity().get("logits").comparedPositions()).isNull();
        }
        assertThat(three.out().lines().filter(l -> l.contains("cos")).toList())
                .isEqualTo(two.out().lines().filter(l -> l.contains("cos")).toList());
        assertThat(m3.golden().inputsSha256()).isEqualTo(m2.golden().inputsSha256());

        byte[] header = Files.readAllBytes(reduced.resolve("golden-outputs.bin"));
        assertThat(header[4]).isEqualTo((byte) 3);
        assertThat(Files.readAllBytes(whole.resolve("golden-outputs.bin"))[4]).isEqualTo((byte) 2);
        GoldenOutputs inputs = read(reduced.resolve("golden-inputs.bin"));
        GoldenOutputs held = read(reduced.resolve("golden-outputs.bin"));
        GoldenOutputs all = read(whole.resolve("golden-outputs.bin"));
        // the bytes the converter worker's golden step stores for the same source and length: the same functions
        // (Golden.sampleInputs with the mask token, Golden.fullLength, HeldPositions.forStorage; GoldenRetryTest)
        try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
            var model = ModelImporter.importWeights(ModelSnapshot.of(mlm, null));
            List<Map<String, FloatTensor>> in = Golden.sampleInputs(model, tok, 32, SEQ);
            GoldenOutputs workerInputs = Golden.samples(in);
            assertThat(Files.readAllBytes(reduced.resolve("golden-inputs.bin"))).isEqualTo(codec(workerInputs));
            assertThat(Files.readAllBytes(reduced.resolve("golden-outputs.bin"))).isEqualTo(codec(
                    HeldPositions.forStorage(workerInputs, Golden.fullLength(model, in,
                            ProgramEvaluator.runtime(1)))));
        }
        long real = 0;
        for (GoldenOutputs.Sample s : inputs.samples()) {
            for (float v : s.outputs().get("attention_mask").data()) real += v != 0 ? 1 : 0;
        }
        int positions = (int) (HeldPositions.MAX_FLOATS / VOCAB);
        assertThat(real).isGreaterThan(positions);
        assertThat(held.heldBytes()).as("held rows and their positions").isEqualTo(4L * positions * VOCAB + 4L * positions);
        assertThat(all.heldBytes()).isEqualTo(4L * real * VOCAB);
        assertThat(Files.size(reduced.resolve("golden-outputs.bin"))).isLessThan(Files.size(whole.resolve("golden-outputs.bin")) / 2);
        // the held rows are the whole data's rows at those positions
        GoldenTensor first = held.samples().get(0).tensors().get("logits");
        assertThat(first.heldPositions()).isNotEmpty();
        float[] row = new float[VOCAB];
        first.heldRow(0, row, 0);
        float[] expected = new float[VOCAB];
        all.samples().get(0).tensors().get("logits").copy(first.heldPositions()[0] * VOCAB, expected, 0, VOCAB);
        assertThat(row).isEqualTo(expected);
        // the samples carry [MASK] at the held positions, but for the [CLS]/[SEP] of short samples holding more
        // positions than they have other tokens (seq 12), which stay as they are
        int mask = TinyTokenizers.wordPieceVocab().indexOf("[MASK]");
        int masked = 0;
        for (int i = 0; i < inputs.samples().size(); i++) {
            float[] ids = inputs.samples().get(i).outputs().get("input_ids").data();
            int[] heldAt = held.samples().get(i).tensors().get("logits").heldPositions();
            List<Integer> heldList = Arrays.stream(heldAt).boxed().toList();
            for (int p = 0; p < ids.length; p++) {
                if (ids[p] == mask) {
                    assertThat(heldList).as("sample %d: masked position %d is held", i, p).contains(p);
                    masked++;
                }
            }
            for (int p : heldAt) {
                assertThat(ids[p] == mask || ids[p] == 2 || ids[p] == 3).as("sample %d position %d", i, p).isTrue();
            }
        }
        assertThat(masked).isGreaterThan(positions * 3 / 4).isLessThanOrEqualTo(positions);
        assertThat(three.out()).containsPattern("note: a fill-mask model's golden data holds its logits over the whole"
                + " vocabulary \\(" + VOCAB + " tokens\\) at " + positions + " of the fixed samples' " + real
                + " real tokens \\(golden format 3, about [0-9.]+ MB at every one\\), " + masked + " of them \\[MASK\\]"
                + " in the samples: ").contains("only agents that read golden format 3 take the version's jobs");
        assertThat(two.out()).contains("at each of the fixed samples' " + real + " real tokens (" + masked
                + " of them [MASK] in the samples)");

        // the comparison an agent's accuracy job makes (VariantFidelity.realTokens, whose reports GoldenComparison's
        // sample-by-sample parts give):
        // the package on every golden input, compared at the held positions
        Path pkg = reduced.resolve(m3.variants().get(0).path());
        List<Map<String, FloatTensor>> sampleInputs = inputs.samples().stream().map(GoldenOutputs.Sample::outputs).toList();
        List<Map<String, FloatTensor>> produced;
        try (var model = new ReferenceRuntime().load(pkg,
                RuntimeOptions.defaults())) {
            produced = sampleInputs.stream().map(model::predict).toList();
        }
        FidelityReport f = VariantFidelity.realTokens(held, produced, sampleInputs).get("logits");
        FidelityReport every = VariantFidelity.realTokens(all, produced, sampleInputs).get("logits");
        assertThat(f.positions()).isEqualTo(positions);
        assertThat(every.positions()).isEqualTo((int) real);
        assertThat(f.cosineMin()).isGreaterThanOrEqualTo(every.cosineMin()).isGreaterThan(0.99);
        assertThat(f.comparedPositions().values().stream().mapToInt(List::size).sum()).isEqualTo(positions);
        assertThat(f.comparedPositions()).containsKey(held.samples().get(0).id());

        // eval measures on the same masked samples: its fidelity on convert's 8 is the one convert recorded
        Cli eval = Cli.run("eval", "--package", pkg.toString(), "--source", mlm.toString(), "--samples", "8", "--json");
        assertThat(eval.code()).as(eval.toString()).isZero();
        tools.jackson.databind.JsonNode logits = tools.jackson.databind.json.JsonMapper.shared().readTree(eval.out())
                .get("outputs").get("logits");
        FidelityReport recorded = m3.variants().get(0).fidelity().get("logits");
        assertThat(logits.get("positions").asInt()).isEqualTo(recorded.positions());
        assertThat(logits.get("cosineMin").asDouble()).isEqualTo(recorded.cosineMin());
        assertThat(logits.get("top1Agreement").asDouble()).isEqualTo(recorded.top1Agreement());
    }

    @Test
    void aMaskedLmWhoseTokenizerHasNoMaskTokenIsMeasuredOnThePlainSamplesWithANote() throws Exception {
        Path mlm = TinyModels.maskedLm(dir.resolve("no-mask"), 31,
                TinyTokenizers.wordPieceVocab().size());
        Files.writeString(mlm.resolve("tokenizer.json"), TinyTokenizers.wordPieceJson()
                .replace("\"[MASK]\"", "\"[MASK_]\""));
        Path out = dir.resolve("no-mask-out");
        Cli c = convert(mlm, out);
        assertThat(c.out()).contains("note: tokenizer.json has no mask token ([MASK] or <mask>), so this fill-mask"
                + " model's golden data and fidelity are measured on the plain fixed samples")
                .contains("at each of the fixed samples' ").doesNotContain("in the samples)");
        GoldenOutputs inputs = read(out.resolve("golden-inputs.bin"));
        List<Map<String, FloatTensor>> plain;
        try (Tokenizer tok = Tokenizer.load(mlm.resolve("tokenizer.json"))) {
            plain = Golden.inputs(tok, Samples.fixed(), SEQ);
        }
        for (int i = 0; i < plain.size(); i++) {
            assertThat(inputs.samples().get(i).outputs().get("input_ids").data())
                    .containsExactly(plain.get(i).get("input_ids").data());
        }
    }
}
