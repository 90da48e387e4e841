package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.eval.FidelityReport;
import io.aneforge.graph.WeightCache;
import io.aneforge.mil.Arg;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.Half;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.TensorType;
import io.aneforge.mil.Var;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.ImportedModel;
import io.aneforge.quant.ActivationRange;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The w8a8 variant end to end on tiny random models: an iOS 17 program with per-channel int8 weights and a
 * {@code quantize -> dequantize} pair (int8, per tensor, symmetric, calibrated scale) before every calibrated linear or
 * conv; written, read back with re-inferred types, close to the golden, and byte-identical when built again.
 * {@code w8a8-affine} the same with coremltools' affine ({@code linear}) activation scale and int8 zero point.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class W8a8ConversionTest {
    static final int SEQ = 16;

    @TempDir
    Path dir;
    QuantizableTinyBert bert;
    ImportedModel model;
    Calibration calibration;

    @BeforeAll
    void importTinyBert(@TempDir Path tmp) throws Exception {
        bert = QuantizableTinyBert.importInto(tmp);
        model = bert.model();
        calibration = bert.measure(SEQ);
    }

    static VariantSpec spec(Layout layout) {
        return spec(layout, "w8a8");
    }

    static VariantSpec spec(Layout layout, String precision) {
        return VariantSpec.of("M4", Target.IOS17, layout, Precision.parse(precision), SEQ);
    }

    @ParameterizedTest
    @ValueSource(strings = {"w8a8", "w8a8-affine"})
    void bothLayoutsQuantizeEveryCalibratedProjectionInputAndStayCloseToTheGolden(String precision) throws Exception {
        boolean affine = precision.endsWith("-affine");
        QuantizableTinyBert.GoldenRun golden = bert.golden(Samples.fixed().subList(0, 4), SEQ);
        List<Map<String, FloatTensor>> inputs = golden.inputs();
        for (Layout layout : Layout.values()) {
            VariantSpec spec = spec(layout, precision);
            ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve(spec.id()), null,
                    WeightCache.uncached(calibration));
            Program read = MlPackage.read(cv.packageDir()); // re-inferred types: ProgramValidator inside
            assertThat(read.target()).isEqualTo(Target.IOS17);
            assertThat(read.metadata()).containsEntry("aneforge.calibration_sha256", calibration.fingerprint());
            String projection = layout == Layout.ANE ? "conv" : "linear";
            int pairs = 0;
            int nonZeroPoints = 0;
            for (Operation op : read.operations()) {
                if (!op.type().equals(projection)) {
                    continue;
                }
                Var weight = (Var) op.inputs().get("weight").get(0);
                ActivationRange range = calibration.range(weight.name());
                assertThat(range).as(op.name() + " calibrated").isNotNull();
                Operation dq = read.producer(((Var) op.inputs().get("x").get(0)).name());
                assertThat(dq.type()).as(op.name() + " x").isEqualTo("dequantize");
                Operation q = read.producer(((Var) dq.inputs().get("input").get(0)).name());
                assertThat(q.type()).isEqualTo("quantize");
                assertThat(q.output().dtype()).isEqualTo(DType.INT8);
                assertThat(q.inputs()).doesNotContainKey("axis"); // per tensor
                Constant scale = constant(q.inputs().get("scale").get(0));
                assertThat(scale.type()).isEqualTo(TensorType.of(DType.FP16));
                assertThat(constant(dq.inputs().get("scale").get(0)).floatAt(0)).isEqualTo(scale.floatAt(0));
                if (affine) {
                    float[] expected = coremltoolsAffine(range);
                    assertThat(scale.floatAt(0)).as(op.name() + " scale").isEqualTo(expected[0]).isPositive();
                    Constant zp = constant(q.inputs().get("zero_point").get(0));
                    assertThat(zp.type()).isEqualTo(TensorType.of(DType.INT8)); // a scalar of output_dtype
                    assertThat(zp.toFloats()).as(op.name() + " zero point").containsExactly(expected[1]);
                    assertThat(constant(dq.inputs().get("zero_point").get(0)).toFloats()).containsExactly(expected[1]);
                    nonZeroPoints += expected[1] != 0 ? 1 : 0;
                } else {
                    assertThat(q.inputs()).doesNotContainKey("zero_point"); // symmetric
                    assertThat(dq.inputs()).doesNotContainKey("zero_point");
                    assertThat(scale.floatAt(0)).isEqualTo(coremltoolsScale(range)).isPositive();
                }
                // the weight: per-channel int8 with zero points 0 (coremltools' linear_symmetric)
                Operation w = read.producer(weight.name());
                if (w.type().equals("constexpr_affine_dequantize")) {
                    assertThat(w.attributes().get("quantized_data").type().dtype()).isEqualTo(DType.INT8);
                    assertThat(w.attributes().get("zero_point").toFloats()).containsOnly(0f);
                }
                pairs++;
            }
            // 6 projections in each of the layers, and the pooler
            assertThat(pairs).as(layout + " pairs").isEqualTo(6 * TinyModels.LAYERS + 1);
            if (affine) {
                // the FFN output projections read GELU outputs (barely negative): their ranges are lopsided
                assertThat(nonZeroPoints).as(layout + " pairs with a zero point other than 0").isPositive();
            }
            assertThat(read.operations()).filteredOn(o -> o.type().equals("constexpr_affine_dequantize")).isNotEmpty();
            List<Map<String, FloatTensor>> out = ProgramEvaluator.runtime().runAll(read, inputs);
            Map<String, FidelityReport> f = VariantFidelity.of(golden.outputs(), out);
            for (var e : f.entrySet()) {
                assertThat(e.getValue().cosineMean()).as(spec.id() + " " + e.getKey()).isGreaterThanOrEqualTo(0.99);
            }
        }
    }

    @Test
    void theSameSourceAndSpecGiveTheSameBytes() throws Exception {
        VariantSpec spec = spec(Layout.ANE);
        ConvertedVariant a = VariantConverter.convert(model, spec, dir.resolve("a").resolve("v.mlpackage"), null,
                WeightCache.create(() -> calibration));
        ConvertedVariant b = VariantConverter.convert(model, spec, dir.resolve("b").resolve("v.mlpackage"), null,
                WeightCache.uncached(bert.measure(SEQ)));
        assertThat(b.archiveSha256()).isEqualTo(a.archiveSha256());
        VariantSpec affine = spec(Layout.ANE, "w8a8-affine");
        ConvertedVariant c = VariantConverter.convert(model, affine, dir.resolve("c").resolve("v.mlpackage"), null,
                WeightCache.uncached(calibration));
        ConvertedVariant d = VariantConverter.convert(model, affine, dir.resolve("d").resolve("v.mlpackage"), null,
                WeightCache.uncached(bert.measure(SEQ)));
        assertThat(d.archiveSha256()).isEqualTo(c.archiveSha256()).isNotEqualTo(a.archiveSha256());
        assertThat(affine.id()).isEqualTo("m4-ios17-ane-w8a8-affine-s16");
    }

    @Test
    void gpt2QuantizesItsProjectionsButNotTheTiedHeadsMatmul() throws Exception {
        CalibratedTinyGpt2 tiny = CalibratedTinyGpt2.importInto(dir);
        ImportedModel gpt2 = tiny.model();
        int seq = CalibratedTinyGpt2.SEQ;
        Calibration c = tiny.calibration();
        Map<String, FloatTensor> in = tiny.input();
        FloatTensor golden = ProgramEvaluator.runtime().run(VariantConverter.build(gpt2, Golden.referenceSpec(seq)).program(), in)
                .get("logits");
        for (Layout layout : Layout.values()) {
            Program p = VariantConverter.build(gpt2, new VariantSpec("A17_PRO", Target.IOS17, layout, Precision.parse("w8a8"),
                    seq, 0), WeightCache.uncached(c)).program();
            long quantized = p.operations().stream().filter(o -> o.type().equals("quantize")).count();
            // q, k, v, attention output, FFN in and out per layer; the LM head (the embedding table) has no range
            assertThat(quantized).as(layout.id()).isEqualTo(6L * TinyModels.LAYERS);
            FidelityReport f = io.aneforge.eval.Fidelity.compareLogits(golden,
                    ProgramEvaluator.runtime().run(p, in).get("logits"));
            assertThat(f.cosineMean()).as(layout.id()).isGreaterThanOrEqualTo(0.99);
        }
    }

    @Test
    void withoutCalibrationAW8a8VariantIsAnErrorThatSaysWhereToGetIt() {
        QuantizableTinyBert.assertAsksForCalibrationStatistics(() -> VariantConverter.build(model, spec(Layout.ANE)));
    }

    @Test
    void theDeploymentTargetMustBeIos17OrNewer() {
        assertThatThrownBy(() -> VariantSpec.of("M4", Target.IOS16, Layout.ANE, Precision.parse("w8a8"), SEQ))
                .hasMessageContaining("ios17");
    }

    /**
     * coremltools' affine int8 activation scale and zero point ({@code quantize_weight_by_dtype}, mode {@code LINEAR},
     * int8: -128..127), written here from its formula: the fp16 range widened to include 0, {@code scale = (hi - lo) /
     * 255} and {@code zero_point = round((-128·hi - 127·lo) / (hi - lo))}, each step rounded to fp16 as NumPy computes
     * on fp16 statistics, ties to even.
     */
    static float[] coremltoolsAffine(ActivationRange r) {
        float lo = Math.min(0, Half.round(r.min()));
        float hi = Math.max(0, Half.round(r.max()));
        float width = Half.round(hi - lo);
        float scale = Half.round(width / 255);
        float zp = (float) Math.rint(Half.round(Half.round(Half.round(-128 * hi) - Half.round(127 * lo)) / width));
        return new float[] {scale, Math.max(-128, Math.min(127, zp))};
    }

    /** coremltools' symmetric int8 activation scale from {@code rmin}, {@code rmax} (both in fp16), in fp16. */
    static float coremltoolsScale(ActivationRange r) {
        float maxAbs = Math.max(Math.abs(Half.round(r.min())), Math.abs(Half.round(r.max())));
        return Half.round(2 * maxAbs / 254f);
    }

    static Constant constant(Arg a) {
        return a instanceof Constant c ? c : ((Var) a).constValue();
    }
}
