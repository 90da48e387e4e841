package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.convert.VariantFidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.eval.GoldenTensor;
import io.aneforge.eval.golden.GoldenOutputsCodec;
import io.aneforge.eval.golden.HeldPositions;
import io.aneforge.safetensors.SafetensorsFile;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.RawSafetensors;
import io.aneforge.testsupport.models.TinyModels;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fill-mask model with a vocabulary past {@link HeldPositions#MIN_WIDTH}: {@code convert} writes its golden outputs
 * in format 3 (logits at a bounded set of real tokens), prints and records the same fidelity as with every position
 * kept ({@code ANEFORGE_GOLDEN_FORMAT=2}), and the written package compared against the stored golden data with the
 * comparison an agent's {@code GoldenComparison} makes for a masked output ({@code VariantFidelity.realTokens}, whose
 * reports the agent's sample-by-sample parts give float for float, called here directly on every golden input run
 * through the reference runtime; the agent's own path, its store and job executor, is not exercised here:
 * device-agent's GoldenComparisonTest does) agrees at the held positions, which the report names.
 */
class FillMaskGoldenFormatTest {
    static final int VOCAB = 16384; // 128 held positions (2^21 / V) of the fixed samples' real tokens at seq 12
    static final int SEQ = 12;

    @TempDir
    static Path dir;

    /** The tiny BERT as a masked LM whose vocabulary (and tied decoder) has {@link #VOCAB} rows, beyond its tokenizer's. */
    static Path wideMaskedLm() throws Exception {
        Path bert = TinyModels.bert(dir.resolve("bert"), 29);
        Path d = Files.createDirectories(dir.resolve("mlm"));
        int h = TinyModels.HIDDEN;
        Random random = new Random(5);
        RawSafetensors st = new RawSafetensors();
        try (var f = SafetensorsFile.open(bert.resolve("model.safetensors"))) {
            for (var t : f.tensors()) {
                float[] data = f.readFloat(t.name()).data();
                if (t.name().equals("embeddings.word_embeddings.weight")) {
                    float[] wide = new float[VOCAB * h];
                    System.arraycopy(data, 0, wide, 0, data.length);
                    for (int i = data.length; i < wide.length; i++) {
                        wide[i] = (float) (random.nextGaussian() * 0.05);
                    }
                    st.f32("bert." + t.name(), wide, VOCAB, h);
                } else {
                    st.f32("bert." + t.name(), data, t.shape());
                }
            }
        }
        st.f32("cls.predictions.transform.dense.weight", gaussian(random, h * h, 0.2), h, h);
        st.f32("cls.predictions.transform.dense.bias", gaussian(random, h, 0.1), h);
        float[] gamma = gaussian(random, h, 0.1);
        for (int i = 0; i < h; i++) {
            gamma[i] += 1;
        }
        st.f32("cls.predictions.transform.LayerNorm.weight", gamma, h);
        st.f32("cls.predictions.transform.LayerNorm.bias", gaussian(random, h, 0.1), h);
        st.f32("cls.predictions.bias", gaussian(random, VOCAB, 0.1), VOCAB);
        st.write(d.resolve("model.safetensors"));
        Files.copy(bert.resolve("tokenizer.json"), d.resolve("tokenizer.json"));
        String config = Files.readString(bert.resolve("config.json")).replace("[\"BertModel\"]", "[\"BertForMaskedLM\"]")
                .replaceFirst("\"vocab_size\": [0-9]+", "\"vocab_size\": " + VOCAB);
        assertThat(config).contains("\"vocab_size\": " + VOCAB);
        Files.writeString(d.resolve("config.json"), config);
        return d;
    }

    static float[] gaussian(Random random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    static Cli convert(Path source, Path out) {
        Cli c = Cli.run("convert", "--source", source.toString(), "--out", out.toString(), "--chips", "M4",
                "--seq-len", String.valueOf(SEQ), "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();
        return c;
    }

    static GoldenOutputs read(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return GoldenOutputsCodec.read(in);
        }
    }

    @Test
    void convertWritesFormatThreeWithTheSameFidelityAndAnAgentComparesTheHeldPositions() throws Exception {
        Path mlm = wideMaskedLm();
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
        assertThat(three.out()).containsPattern("note: a fill-mask model's golden data holds its logits over the whole"
                + " vocabulary \\(" + VOCAB + " tokens\\) at " + positions + " of the fixed samples' " + real
                + " real tokens \\(golden format 3").contains("only agents that read golden format 3 take the version's jobs");
        assertThat(two.out()).contains("at each of the fixed samples' " + real + " real tokens");

        // the comparison an agent's accuracy job makes (VariantFidelity.realTokens, whose reports GoldenComparison's
        // sample-by-sample parts give):
        // the package on every golden input, compared at the held positions
        Path pkg = reduced.resolve(m3.variants().get(0).path());
        List<Map<String, FloatTensor>> sampleInputs = inputs.samples().stream().map(GoldenOutputs.Sample::outputs).toList();
        List<Map<String, FloatTensor>> produced;
        try (var model = new io.aneforge.runtime.reference.ReferenceRuntime().load(pkg,
                io.aneforge.runtime.RuntimeOptions.defaults())) {
            produced = sampleInputs.stream().map(model::predict).toList();
        }
        FidelityReport f = VariantFidelity.realTokens(held, produced, sampleInputs).get("logits");
        FidelityReport every = VariantFidelity.realTokens(all, produced, sampleInputs).get("logits");
        assertThat(f.positions()).isEqualTo(positions);
        assertThat(every.positions()).isEqualTo((int) real);
        assertThat(f.cosineMin()).isGreaterThanOrEqualTo(every.cosineMin()).isGreaterThan(0.99);
        assertThat(f.comparedPositions().values().stream().mapToInt(List::size).sum()).isEqualTo(positions);
        assertThat(f.comparedPositions()).containsKey(held.samples().get(0).id());
    }
}
