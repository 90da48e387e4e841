package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.FidelityReport;
import io.aneforge.graph.WeightCache;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.ImportedModel;
import io.aneforge.quant.QuantReport;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPTQ variants end to end on the tiny BERT (FFN width 128, so the FFN projections are quantized): calibration
 * statistics measured on the golden graph, reproducible bytes, the statistics' fingerprint in the metadata,
 * the range fit where no calibration input reaches (the embedding table), and a clear error without statistics.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GptqConversionTest {
    static final int SEQ = 16;
    /** The tiny BERT's calibration statistics and its ane int4-block32-affine-gptq archive (see the test). */
    static final String PINNED_FINGERPRINT = "f61540ba48c91515e71c573bbba48832ef3b9145c3ad723cba0e7d95522b987c";
    static final String PINNED_ARCHIVE = "b35a0f3bf8a915d14c0f230277ae2d6786e6fd52e17da57ab5256c89ad347ab5";

    @TempDir
    Path dir;
    QuantizableTinyBert bert;
    ImportedModel model;

    @BeforeAll
    void importTinyBert(@TempDir Path tmp) throws Exception {
        bert = QuantizableTinyBert.importInto(tmp);
        model = bert.model();
    }

    Calibration measure() {
        return bert.measure(SEQ);
    }

    static VariantSpec spec(String precision, Layout layout) {
        return VariantSpec.of("M4", Target.IOS18, layout, Precision.parse(precision), SEQ);
    }

    @Test
    void calibrationCoversEveryProjectionOnRealTokensOnly() {
        Calibration c = measure();
        assertThat(c.samples()).isEqualTo(Calibration.texts().size()).isEqualTo(64);
        // query, key and value share their input: one matrix, three names
        assertThat(c.of("encoder.layer.0.attention.self.query.weight"))
                .isSameAs(c.of("encoder.layer.0.attention.self.value.weight"));
        assertThat(c.of("encoder.layer.1.output.dense.weight").features()).isEqualTo(128);
        assertThat(c.of("encoder.layer.1.intermediate.dense.weight").features()).isEqualTo(TinyModels.HIDDEN);
        assertThat(c.of("encoder.layer.0.intermediate.dense.weight").tokens()).isEqualTo(c.tokens());
        assertThat(c.of("pooler.dense.weight").tokens()).isEqualTo(64); // the first token of each text
        assertThat(c.of("embeddings.word_embeddings.weight")).isNull(); // a gather, no input to measure
        assertThat(c.tokens()).isLessThan(64L * SEQ).isGreaterThan(64L * 3); // padding excluded
        assertThat(c.weights()).isEqualTo(2 * 6 + 1);
    }

    @Test
    void gptqVariantsAreReproducibleAndCarryTheirStatisticsFingerprint() throws Exception {
        VariantSpec spec = spec("int4-block32-affine-gptq", Layout.ANE);
        ConvertedVariant a = VariantConverter.convert(model, spec, dir.resolve("a").resolve("v.mlpackage"), null,
                WeightCache.create(this::measure));
        ConvertedVariant b = VariantConverter.convert(model, spec, dir.resolve("b").resolve("v.mlpackage"), null,
                WeightCache.uncached(measure()));
        // (the archive's root is the package directory's name: the same name, the same bytes)
        assertThat(b.archiveSha256()).isEqualTo(a.archiveSha256());
        // Pinned, and checked with 512- and 256-bit vectors alike (the surefire execution vector-256-bit runs this
        // class with -XX:MaxVectorSize=32): the statistics and so the bytes do not depend on the vector width.
        assertThat(measure().fingerprint()).isEqualTo(PINNED_FINGERPRINT);
        assertThat(a.archiveSha256()).isEqualTo(PINNED_ARCHIVE);
        Program read = MlPackage.read(a.packageDir());
        assertThat(read.metadata()).containsEntry("aneforge.calibration_sha256", measure().fingerprint());
        ConvertedVariant range = VariantConverter.convert(model, spec("int4-block32-affine", Layout.ANE),
                dir.resolve("range").resolve("v.mlpackage"), null, WeightCache.uncached(measure()));
        assertThat(MlPackage.read(range.packageDir()).metadata()).doesNotContainKey("aneforge.calibration_sha256");
        Path weights = Path.of("Data/com.apple.CoreML/weights/weight.bin");
        assertThat(java.nio.file.Files.size(range.packageDir().resolve(weights)))
                .isEqualTo(java.nio.file.Files.size(a.packageDir().resolve(weights))); // the same storage, other values
        assertThat(range.archiveSha256()).isNotEqualTo(a.archiveSha256());

        BuiltVariant built = VariantConverter.build(model, spec, WeightCache.uncached(measure()));
        Map<String, String> notes = new java.util.HashMap<>();
        for (QuantReport r : built.reports()) {
            notes.put(r.tensor(), r.scheme() + " " + r.note());
        }
        assertThat(notes.get("encoder.layer.0.output.dense.weight")).isEqualTo("int4-block32-affine-gptq ");
        assertThat(notes.get("embeddings.word_embeddings.weight"))
                .isEqualTo("int4-block32-affine range fit: no calibration inputs reach this tensor (GPTQ needs them)");
    }

    @Test
    void gptqLowersTheErrorOnTextsCalibrationNeverSaw() throws Exception {
        QuantizableTinyBert.GoldenRun golden = bert.golden(Samples.fixed(), SEQ);
        List<Map<String, io.aneforge.tensor.FloatTensor>> inputs = golden.inputs();
        WeightCache cache = WeightCache.uncached(measure());
        double[] cos = new double[2];
        String[] ids = {"int4-block32-affine", "int4-block32-affine-gptq"};
        for (int i = 0; i < 2; i++) {
            Program p = VariantConverter.build(model, spec(ids[i], Layout.ANE), cache).program();
            FidelityReport f = VariantFidelity.realTokens(golden.outputs(), ProgramEvaluator.runtime().runAll(p, inputs), inputs)
                    .get("last_hidden_state");
            cos[i] = f.cosineMean();
        }
        System.out.printf("tiny BERT, 32 evaluation texts: mean token cosine %.6f range fit, %.6f GPTQ%n", cos[0], cos[1]);
        assertThat(1 - cos[1]).isLessThan(1 - cos[0]);
    }

    /** GPT-2: both layouts take the same statistics (the ane layout's split c_attn and 1×1 convs by name) and agree. */
    @Test
    void gpt2LayoutsShareTheStatisticsAndAgree() throws Exception {
        CalibratedTinyGpt2 tiny = CalibratedTinyGpt2.importInto(dir);
        ImportedModel gpt2 = tiny.model();
        int seq = CalibratedTinyGpt2.SEQ;
        Calibration c = tiny.calibration();
        Map<String, io.aneforge.tensor.FloatTensor> in = tiny.input();
        assertThat(c.of("h.0.attn.c_attn.q.weight")).isSameAs(c.of("h.0.attn.c_attn.v.weight"));
        assertThat(c.of("h.1.mlp.c_proj.weight").features()).isEqualTo(4 * TinyModels.HIDDEN);
        WeightCache cache = WeightCache.uncached(c);
        Map<Layout, io.aneforge.tensor.FloatTensor> logits = new java.util.EnumMap<>(Layout.class);
        for (Layout layout : Layout.values()) {
            BuiltVariant v = VariantConverter.build(gpt2,
                    new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.parse("int4-block32-affine-gptq"), seq, 0), cache);
            assertThat(v.reports()).filteredOn(r -> r.tensor().endsWith("mlp.c_fc.weight") || r.tensor().endsWith("mlp.c_proj.weight"))
                    .hasSize(2 * TinyModels.LAYERS).allMatch(r -> r.scheme().equals("int4-block32-affine-gptq"));
            logits.put(layout, ProgramEvaluator.runtime().run(v.program(), in).get("logits"));
        }
        FidelityReport f = io.aneforge.eval.Fidelity.compareLogits(logits.get(Layout.STANDARD), logits.get(Layout.ANE));
        assertThat(f.cosineMin()).isGreaterThanOrEqualTo(0.9999);
        assertThat(f.top1Agreement()).isEqualTo(1.0);
    }

    @Test
    void withoutStatisticsAGptqVariantIsAnErrorThatSaysWhereToGetThem() {
        QuantizableTinyBert.assertAsksForCalibrationStatistics(
                () -> VariantConverter.build(model, spec("int4-block32-gptq", Layout.STANDARD)));
    }
    /**
     * A model with token types is calibrated on the 64 built-in sentence pairs (none of them a fidelity pair): every
     * input carries segment-1 tokens, the statistics differ from the single texts', and a --calibration line with a
     * tab is a pair for it. A model without token types keeps its texts, inputs and (pinned above) fingerprint.
     */
    @Test
    void aModelWithTokenTypesIsCalibratedOnSentencePairs() throws Exception {
        ImportedModel pairs = model.withTokenTypeInput();
        List<Samples.Pair> builtIn = Calibration.pairs();
        assertThat(builtIn).hasSize(64).doesNotContainAnyElementsOf(Samples.pairs());
        assertThat(builtIn).allSatisfy(p -> assertThat(p.second()).isNotBlank());
        assertThat(Calibration.texts(model)).isEqualTo(Calibration.texts());
        assertThat(Calibration.texts(pairs)).hasSize(64).allSatisfy(t -> assertThat(t).contains("\t"));
        try (Tokenizer tok = bert.tokenizer()) {
            List<Map<String, io.aneforge.tensor.FloatTensor>> in = Calibration.inputs(pairs, tok,
                    Calibration.texts(pairs), SEQ);
            assertThat(in).hasSize(64).allSatisfy(m -> assertThat(m.get(io.aneforge.graph.Graphs.TOKEN_TYPE_IDS).data())
                    .as("segment 1 in every calibration input").contains(1f));
            for (int i = 0; i < 64; i++) {
                io.aneforge.tokenizer.Encoding e = Golden.encodeSamplePair(tok, builtIn.get(i), SEQ);
                assertThat(in.get(i).get(io.aneforge.graph.Graphs.INPUT_IDS).data()).hasSize(SEQ);
                float[] types = in.get(i).get(io.aneforge.graph.Graphs.TOKEN_TYPE_IDS).data();
                for (int t = 0; t < SEQ; t++) {
                    assertThat(types[t]).isEqualTo((float) e.typeIds()[t]);
                }
            }
            // a user's file: a line with a tab is a pair, one without a single text (segment 0 throughout)
            List<Map<String, io.aneforge.tensor.FloatTensor>> user = Calibration.inputs(pairs, tok,
                    List.of("the cat sat\ta dog ran", "the cat sat"), SEQ);
            assertThat(user.get(0).get(io.aneforge.graph.Graphs.TOKEN_TYPE_IDS).data()).contains(1f);
            assertThat(user.get(1).get(io.aneforge.graph.Graphs.TOKEN_TYPE_IDS).data()).containsOnly(0f);
            // without token types a tab is part of the text, as before: the inputs calibration always had
            List<Map<String, io.aneforge.tensor.FloatTensor>> plain = Calibration.inputs(model, tok,
                    Calibration.texts(), SEQ);
            List<Map<String, io.aneforge.tensor.FloatTensor>> before = Golden.inputs(tok, Calibration.texts(), SEQ);
            for (int i = 0; i < plain.size(); i++) {
                assertThat(plain.get(i)).containsOnlyKeys(before.get(i).keySet());
                for (String k : before.get(i).keySet()) {
                    assertThat(plain.get(i).get(k).data()).containsExactly(before.get(i).get(k).data());
                }
            }
            Calibration c = Calibration.measure(pairs, tok, SEQ);
            assertThat(c.samples()).isEqualTo(64);
            Calibration singles = Calibration.measure(pairs, tok, Calibration.texts(), SEQ);
            assertThat(c.fingerprint()).isNotEqualTo(singles.fingerprint()).isNotEqualTo(PINNED_FINGERPRINT);
            assertThat(c.tokens()).isNotEqualTo(singles.tokens());
        }
    }
}
