package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.quant.QuantReport;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tiny random BERT (with pooler): every layout x precision builds, writes, reads back, and matches the golden. */
class TinyBertConversionTest {
    static final int SEQ = 16;

    @TempDir
    Path dir;

    ImportedModel model;
    Path snapshot;

    @BeforeEach
    void load() throws Exception {
        snapshot = TinyModels.bert(dir.resolve("bert"), 11);
        model = ModelImporter.importWeights(ModelSnapshot.of(snapshot, null));
    }

    @Test
    void everyLayoutAndPrecisionReadsBackAndMatchesTheGolden() throws Exception {
        List<String> samples = Samples.fixed().subList(0, 4);
        try (Tokenizer tok = Tokenizer.load(snapshot.resolve("tokenizer.json"))) {
            GoldenOutputs golden = Golden.compute(model, tok, samples, SEQ);
            assertThat(golden.outputNames()).containsExactly("last_hidden_state", "pooler_output");
            assertThat(golden.samples().get(0).outputs().get("pooler_output").shape()).containsExactly(1, TinyModels.HIDDEN);
            var inputs = Golden.inputs(tok, samples, SEQ);
            for (Layout layout : Layout.values()) {
                for (String p : List.of("fp32", "fp16", "int8-channel", "int8-block32", "int8-block32-affine", "int4-block32")) {
                    Precision precision = Precision.parse(p);
                    VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, precision, SEQ, 0);
                    ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve(spec.id()));
                    Program read = MlPackage.read(cv.packageDir()); // re-inferred types: ProgramValidator inside
                    List<Map<String, FloatTensor>> out = ProgramEvaluator.runtime().runAll(read, inputs);
                    Map<String, FidelityReport> f = VariantFidelity.of(golden, out);
                    double gate = switch (precision.scheme()) {
                        case FP32 -> 0.999999;
                        case FP16 -> 0.9999;
                        case INT8_CHANNEL, INT8_BLOCK -> 0.999;
                        default -> 0.98;
                    };
                    for (var e : f.entrySet()) {
                        assertThat(e.getValue().cosineMean()).as(spec.id() + " " + e.getKey()).isGreaterThanOrEqualTo(gate);
                    }
                    checkReports(precision, cv.reports());
                    checkLayout(layout, read);
                }
            }
        }
    }

    private static void checkReports(Precision precision, List<QuantReport> reports) {
        if (precision.scheme() == Precision.Scheme.FP32) {
            assertThat(reports).isEmpty();
            return;
        }
        Map<String, QuantReport> byName = reports.stream().collect(Collectors.toMap(QuantReport::tensor, r -> r));
        QuantReport q = byName.get("encoder.layer.0.attention.self.query.weight");
        QuantReport bias = byName.get("encoder.layer.0.attention.self.query.bias");
        QuantReport ffn = byName.get("encoder.layer.0.intermediate.dense.weight"); // 64 x 32 = 2048 elements
        assertThat(bias.scheme()).isEqualTo("fp16");
        assertThat(q.scheme()).isEqualTo("fp16"); // 32 x 32 = 1024 elements <= 2048: coremltools keeps these FP16 too
        assertThat(ffn.scheme()).isEqualTo("fp16");
        if (precision.scheme() == Precision.Scheme.FP16) {
            assertThat(reports).allMatch(r -> r.scheme().equals("fp16") && r.note().isEmpty());
        } else {
            assertThat(q.note()).contains("<= threshold 2048");
        }
        QuantReport words = byName.get("embeddings.word_embeddings.weight");
        String expected = switch (precision.scheme()) {
            case FP16 -> "fp16";
            case INT8_CHANNEL -> "int8-per-channel-affine";
            case INT8_BLOCK -> "int8-block32-" + (precision.affine() ? "affine" : "symmetric");
            default -> "int4-block32-symmetric";
        };
        assertThat(words.scheme()).as("embedding table (%d elements)", words.bytesBefore() / 4).isEqualTo(expected);
    }

    private static void checkLayout(Layout layout, Program p) {
        Set<String> types = p.operations().stream().map(Operation::type).collect(Collectors.toSet());
        if (layout == Layout.ANE) {
            assertThat(types).contains("conv", "einsum").doesNotContain("linear", "matmul");
        } else {
            assertThat(types).contains("linear", "matmul").doesNotContain("conv", "einsum");
        }
        assertThat(p.outputs()).extracting(v -> v.name()).containsExactly("last_hidden_state", "pooler_output");
        assertThat(p.outputs().get(0).shape()).containsExactly(1, SEQ, TinyModels.HIDDEN);
    }

    @Test
    void archivesAreDeterministicAndPackagesRunLikeTheInMemoryProgram() {
        VariantSpec spec = new VariantSpec("M4", Target.IOS18, Layout.ANE, Precision.parse("int4-block32"), SEQ, 0);
        ConvertedVariant a = VariantConverter.convert(model, spec, dir.resolve("a").resolve("v.mlpackage"), dir.resolve("a.zip"));
        ConvertedVariant b = VariantConverter.convert(model, spec, dir.resolve("b").resolve("v.mlpackage"));
        assertThat(a.archiveSha256()).isEqualTo(b.archiveSha256());
        assertThat(a.archiveSize()).isEqualTo(b.archiveSize()).isEqualTo(dir.resolve("a.zip").toFile().length());
        Program built = VariantConverter.build(model, spec).program();
        Program read = MlPackage.read(a.packageDir());
        Map<String, FloatTensor> in = Map.of("input_ids", new FloatTensor(new int[] {1, SEQ}, ramp(SEQ, 3)),
                "attention_mask", new FloatTensor(new int[] {1, SEQ}, ones(SEQ, 10)));
        Map<String, FloatTensor> x = ProgramEvaluator.scalar().run(built, in);
        Map<String, FloatTensor> y = ProgramEvaluator.scalar().run(read, in);
        assertThat(y.get("last_hidden_state").data()).isEqualTo(x.get("last_hidden_state").data());
        assertThat(y.get("pooler_output").data()).isEqualTo(x.get("pooler_output").data());
    }

    @Test
    void unsupportedVariantsFailWithTheReason() {
        VariantSpec w8a8 = new VariantSpec("M4", Target.IOS18, Layout.ANE, Precision.parse("w8a8"), SEQ, 0);
        assertThatThrownBy(() -> VariantConverter.build(model, w8a8)).isInstanceOf(ConversionException.class)
                .hasMessageContaining("m4-ios18-ane-w8a8-s16").hasMessageContaining("w8a8 quantizes activations");
        VariantSpec tooLong = new VariantSpec("M4", Target.IOS18, Layout.STANDARD, Precision.FP16, 128, 0);
        assertThatThrownBy(() -> VariantConverter.build(model, tooLong)).isInstanceOf(ConversionException.class)
                .hasMessageContaining("sequence length 128 exceeds the 64 positions").hasMessageContaining("seq_len <= 64");
    }

    static float[] ramp(int n, int mul) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i * mul) % 20;
        }
        return v;
    }

    static float[] ones(int n, int real) {
        float[] v = new float[n];
        for (int i = 0; i < real; i++) {
            v[i] = 1;
        }
        return v;
    }
}
