package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
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

    /**
     * {@code -ffn8}: the FFN input projections (intermediate.dense) int8 block-wise with the same block size, mode
     * and fit, everything else the int4 policy quantizes int4; both kinds of constexpr_blockwise_shift_scale in one
     * program, which re-reads (type re-inference) and runs like the in-memory program. The FFN here is 128 wide so
     * that both FFN projections (4096 elements) are above the 2048-element FP16 threshold.
     */
    @Test
    void ffn8StoresTheFfnInputsAtInt8AndTheOtherQuantizedTensorsAtInt4() throws Exception {
        Path snap = TinyModels.bert(dir.resolve("wide"), 11, "", 128);
        ImportedModel wide = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        List<String> samples = Samples.fixed().subList(0, 4);
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"))) {
            GoldenOutputs golden = Golden.compute(wide, tok, samples, SEQ);
            var inputs = Golden.inputs(tok, samples, SEQ);
            for (Layout layout : Layout.values()) {
                for (String p : List.of("int4-block32-affine-ffn8", "int4-block32-mse-ffn8")) {
                    Precision precision = Precision.parse(p);
                    String int4 = "int4-block32-" + (precision.affine() ? "affine" : "symmetric") + (precision.mse() ? "-mse" : "");
                    String int8 = "int8-block32-" + (precision.affine() ? "affine" : "symmetric") + (precision.mse() ? "-mse" : "");
                    VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, precision, SEQ, 0);
                    assertThat(spec.id()).endsWith("-" + p + "-s16");
                    ConvertedVariant cv = VariantConverter.convert(wide, spec, dir.resolve(spec.id()));

                    Map<String, QuantReport> byName = cv.reports().stream().collect(Collectors.toMap(QuantReport::tensor, r -> r));
                    for (int i = 0; i < TinyModels.LAYERS; i++) {
                        String l = "encoder.layer." + i + ".";
                        assertThat(byName.get(l + "intermediate.dense.weight").scheme()).as(spec.id() + " FFN input").isEqualTo(int8);
                        assertThat(byName.get(l + "output.dense.weight").scheme()).as(spec.id() + " FFN output").isEqualTo(int4);
                        assertThat(byName.get(l + "attention.self.query.weight").scheme()).isEqualTo("fp16"); // 1024 elements
                    }
                    assertThat(byName.get("embeddings.word_embeddings.weight").scheme()).isEqualTo(int4);
                    // the FFN input is encoded exactly as the plain int8 precision of the same mode and fit encodes it
                    BuiltVariant plain8 = VariantConverter.build(wide, new VariantSpec("A17_PRO", Target.IOS18, layout,
                            precision.ffnInput(), SEQ, 0));
                    assertThat(precision.ffnInput().id()).isEqualTo(int8.replace("-symmetric", ""));
                    QuantReport ffn = byName.get("encoder.layer.1.intermediate.dense.weight");
                    assertThat(plain8.reports()).filteredOn(r -> r.tensor().equals(ffn.tensor())).containsExactly(ffn);

                    Program read = MlPackage.read(cv.packageDir()); // re-inferred types: ProgramValidator inside
                    Map<DType, List<String>> byStorage = read.operations().stream()
                            .filter(o -> o.type().equals("constexpr_blockwise_shift_scale"))
                            .collect(Collectors.groupingBy(o -> ((Constant) o.inputs().get("data").get(0)).dtype(),
                                    Collectors.mapping(Operation::name, Collectors.toList())));
                    assertThat(byStorage.keySet()).containsExactlyInAnyOrder(DType.INT8, DType.INT4);
                    assertThat(byStorage.get(DType.INT8)).hasSize(TinyModels.LAYERS).allMatch(n -> n.contains("intermediate"));
                    assertThat(byStorage.get(DType.INT4)).hasSize(TinyModels.LAYERS + 1).noneMatch(n -> n.contains("intermediate"));

                    List<Map<String, FloatTensor>> out = ProgramEvaluator.runtime().runAll(read, inputs);
                    for (var e : VariantFidelity.of(golden, out).entrySet()) {
                        assertThat(e.getValue().cosineMean()).as(spec.id() + " " + e.getKey()).isGreaterThanOrEqualTo(0.98);
                    }
                    Map<String, FloatTensor> x = ProgramEvaluator.scalar().run(VariantConverter.build(wide, spec).program(), inputs.get(0));
                    Map<String, FloatTensor> y = ProgramEvaluator.scalar().run(read, inputs.get(0));
                    assertThat(y.get("last_hidden_state").data()).isEqualTo(x.get("last_hidden_state").data());
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
