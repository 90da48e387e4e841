package io.aneforge.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.FidelityReport;
import io.aneforge.eval.GoldenOutputs;
import io.aneforge.graph.WeightCache;
import io.aneforge.mil.Program;
import io.aneforge.mil.ProgramValidator;
import io.aneforge.mil.Target;
import io.aneforge.mlpackage.MlPackage;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.MiniLmSnapshot;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.tokenizer.Tokenizer;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 4 acceptance on a real trained model, sentence-transformers/all-MiniLM-L6-v2 (ONNX from
 * Maven Central): every variant is written as an .mlpackage, read back, run by the reference
 * runtime and compared with ONNX Runtime running the original ONNX, at sequence length 128.
 * Gates use the mean token cosine over real tokens ({@link VariantFidelity#realTokens}); the
 * table also shows all positions, padding included.
 *
 * <p>Sentences: the first {@code -Daneforge.minilm.samples} (default {@value #DEFAULT_SAMPLES})
 * of the fixed 32 in {@code samples.txt}; {@code -Daneforge.minilm.samples=32} runs the full set
 * (about 5 minutes on 2 cores; the README table was measured that way).
 * {@code -Daneforge.minilm.precisions=w8a8,w8a8-affine} converts only those (comparisons with a precision left out
 * are skipped).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MiniLmAcceptanceTest {
    static final int SEQ = 128;
    static final int DEFAULT_SAMPLES = 4;
    static final double INT4_TARGET = 0.98;
    static final double INT4_FLOOR = 0.9;
    /**
     * w8a8 (coremltools' per-tensor symmetric int8 activations from the calibration ranges) measured 0.9757 mean token
     * cosine on the default 4 sentences: BERT's activation outliers cost more than int8 weights (0.9997); a sanity floor.
     */
    static final double W8A8_FLOOR = 0.96;
    /**
     * w8a8-affine (coremltools' affine activations: scale and int8 zero point from the same ranges) measured 0.9900 mean
     * token cosine on the default 4 sentences (min 0.971); the gate sits under that, well above symmetric's 0.9757,
     * so losing the zero points (or getting their sign wrong) fails it.
     */
    static final double W8A8_AFFINE_GATE = 0.985;

    Path dir;
    ImportedModel model;
    List<Map<String, FloatTensor>> inputs;
    GoldenOutputs onnx;
    /** GPTQ's statistics, measured on the calibration texts (not the evaluation sentences). */
    Calibration calibration;

    @BeforeAll
    void runOnnxRuntime(@TempDir Path tmp) throws Exception {
        dir = tmp;
        Path snap = MiniLmSnapshot.write(dir.resolve("minilm"));
        model = ModelImporter.importWeights(ModelSnapshot.of(snap, null));
        int n = Integer.getInteger("aneforge.minilm.samples", DEFAULT_SAMPLES);
        List<String> samples = Samples.fixed().subList(0, n);
        try (Tokenizer tok = Tokenizer.load(snap.resolve("tokenizer.json"));
             OnnxReference ort = new OnnxReference(snap.resolve("onnx/model.onnx"))) {
            inputs = Golden.inputs(tok, samples, SEQ);
            calibration = Calibration.measure(model, tok, SEQ);
            List<GoldenOutputs.Sample> out = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                out.add(GoldenOutputs.Sample.of(Golden.sampleId(i), Map.of("last_hidden_state", ort.lastHiddenState(inputs.get(i)))));
            }
            onnx = new GoldenOutputs(out);
        }
    }

    @Test
    void unconvertedFp32GraphMatchesOnnxRuntime() {
        Program golden = VariantConverter.build(model, Golden.referenceSpec(SEQ)).program();
        // the ONNX export has no pooler: only last_hidden_state
        assertThat(golden.outputs()).extracting(v -> v.name()).containsExactly("last_hidden_state");
        FidelityReport f = VariantFidelity.of(onnx, ProgramEvaluator.runtime().runAll(golden, inputs)).get("last_hidden_state");
        // padding positions included: the FP32 graph matches ONNX Runtime everywhere
        System.out.println("fp32 golden vs ONNX Runtime: " + f);
        assertThat(f.cosineMin()).isGreaterThanOrEqualTo(0.99999);
        assertThat(f.maxAbsError()).isLessThan(1e-4);
    }

    @Test
    void everyVariantReadBackFromItsPackageMatchesOnnxRuntime() {
        // -mse: clip-searched scales (QuantSpec.ScaleFit.MSE), each checked against the range-fit variant it replaces;
        // -ffn8: FFN input projections at int8, the rest int4, each checked against the all-int4 variant;
        // -gptq: GPTQ with statistics of the calibration texts, each checked against the range fit;
        // w8a8: int8 weights and int8 activations (scales from the calibration texts' ranges), at iOS 17
        List<String> precisions = List.of("fp32", "fp16", "int8-channel", "int8-block32", "int4-block32",
                "int4-block32-affine", "int4-block32-mse", "int4-block32-affine-mse",
                "int4-block32-ffn8", "int4-block32-affine-ffn8", "int4-block32-mse-ffn8", "int4-block32-affine-mse-ffn8",
                "int8-block32-gptq", "int4-block32-gptq", "int4-block32-affine-gptq", "int4-block32-gptq-ffn8",
                "int4-block32-affine-gptq-ffn8", "w8a8", "w8a8-affine");
        String only = System.getProperty("aneforge.minilm.precisions");
        if (only != null) {
            List<String> chosen = List.of(only.split(","));
            precisions = precisions.stream().filter(chosen::contains).toList();
        }
        Map<String, Double> cosines = new java.util.HashMap<>();
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%n| layout | precision | cosine mean | cosine min | all positions: mean | all positions: min | max abs"
                        + " | archive bytes | peak intermediate bytes |%n|---|---|---|---|---|---|---|---|---|%n"));
        List<Runnable> checks = new ArrayList<>();
        for (Layout layout : List.of(Layout.STANDARD, Layout.ANE)) {
            for (String p : precisions) {
                if (p.equals("fp32") && layout == Layout.STANDARD) {
                    continue; // that is the golden graph, checked above
                }
                if ((p.contains("-mse") || p.endsWith("-ffn8") || p.contains("-gptq") || p.startsWith("w8a8"))
                        && layout == Layout.STANDARD) {
                    continue; // both layouts give the same numbers; the clip search costs seconds per variant
                }
                Precision precision = Precision.parse(p);
                Target target = precision.scheme() == Precision.Scheme.W8A8 ? Target.IOS17 : Target.IOS18;
                VariantSpec spec = VariantSpec.of("A17_PRO", target, layout, precision, SEQ);
                ConvertedVariant cv = VariantConverter.convert(model, spec, dir.resolve(spec.id() + ".mlpackage"), null,
                        WeightCache.uncached(calibration));
                Program read = MlPackage.read(cv.packageDir());
                ProgramValidator.validate(read);
                List<Map<String, FloatTensor>> outputs = ProgramEvaluator.runtime().runAll(read, inputs);
                FidelityReport f = VariantFidelity.realTokens(onnx, outputs, inputs).get("last_hidden_state");
                FidelityReport all = VariantFidelity.of(onnx, outputs).get("last_hidden_state");
                table.append(String.format(Locale.ROOT, "| %s | %s | %.6f | %.6f | %.6f | %.6f | %.4f | %d | %d |%n",
                        layout.id(), p, f.cosineMean(), f.cosineMin(), all.cosineMean(), all.cosineMin(), f.maxAbsError(),
                        cv.archiveSize(), cv.peakIntermediateBytes()));
                // int4: the target is 0.98; round-to-nearest int4 on this 22M-parameter model measures
                // ~0.95 (padding positions are the worst), so the gate is a sanity floor and the table reports the gap
                // except int4 affine with the FFN inputs at int8 (-ffn8), which meets the target: 0.9817 range fit,
                // 0.9829 -mse (32 sentences, docs/converter.md), and all-int4 affine with GPTQ (-gptq): 0.9851
                double gate = switch (precision.scheme()) {
                    case FP32, FP16 -> 0.9999;
                    case INT8_CHANNEL, INT8_BLOCK -> 0.999;
                    case W8A8 -> precision.affine() ? W8A8_AFFINE_GATE : W8A8_FLOOR;
                    default -> (precision.ffn8() || precision.gptq()) && precision.affine() ? INT4_TARGET : INT4_FLOOR;
                };
                if (precision.scheme() == Precision.Scheme.INT4_BLOCK && f.cosineMean() < INT4_TARGET) {
                    table.append(String.format(Locale.ROOT, "|   | (%s below the int4 target %.2f) | | | | | | | |%n", p, INT4_TARGET));
                }
                checks.add(() -> assertThat(f.cosineMean()).as(spec.id() + " mean token cosine").isGreaterThanOrEqualTo(gate));
                cosines.put(spec.id(), f.cosineMean());
                if (precision.scheme() == Precision.Scheme.W8A8 && precision.affine()) {
                    String symmetric = VariantSpec.of("A17_PRO", target, layout, Precision.parse("w8a8"), SEQ).id();
                    // the zero points spend the levels a symmetric scale wastes on negatives GELU never reaches
                    if (cosines.containsKey(symmetric)) checks.add(() -> assertThat(f.cosineMean())
                            .as(spec.id() + " vs " + symmetric).isGreaterThan(cosines.get(symmetric)));
                }
                if (precision.mse()) {
                    String plain = VariantSpec.of("A17_PRO", Target.IOS18, layout,
                            new Precision(precision.scheme(), precision.blockSize(), precision.affine(), false, precision.ffn8()),
                            SEQ).id();
                    // measured with 32 sentences: +0.010 symmetric, +0.002 affine (docs/converter.md); with -ffn8
                    // +0.005 symmetric, +0.001 affine
                    if (cosines.containsKey(plain)) checks.add(() -> assertThat(f.cosineMean()).as(spec.id() + " vs " + plain)
                            .isGreaterThanOrEqualTo(cosines.get(plain)));
                }
                if (precision.gptq()) {
                    String range = VariantSpec.of("A17_PRO", Target.IOS18, layout,
                            new Precision(precision.scheme(), precision.blockSize(), precision.affine(), false, precision.ffn8()),
                            SEQ).id();
                    // measured with 32 sentences: int4 +0.022 symmetric, +0.014 affine; int8 +0.00007
                    if (cosines.containsKey(range)) checks.add(() -> assertThat(f.cosineMean()).as(spec.id() + " vs " + range)
                            .isGreaterThan(cosines.get(range)));
                }
                if (precision.ffn8()) {
                    String allInt4 = VariantSpec.of("A17_PRO", Target.IOS18, layout,
                            new Precision(precision.scheme(), precision.blockSize(), precision.affine(), precision.mse(), false,
                                    precision.gptq()), SEQ).id();
                    // the FFN inputs at int8 instead of int4: +0.018 symmetric, +0.011 affine (32 sentences)
                    if (cosines.containsKey(allInt4)) checks.add(() -> assertThat(f.cosineMean()).as(spec.id() + " vs " + allInt4)
                            .isGreaterThan(cosines.get(allInt4)));
                }
                assertThat(cv.parameterCount()).isEqualTo(22_565_376L);
                assertThat(cv.archiveSha256()).hasSize(64);
            }
        }
        System.out.println("all-MiniLM-L6-v2, seq " + SEQ + ", " + inputs.size() + " sentences, vs ONNX Runtime:" + table);
        checks.forEach(Runnable::run);
    }
}
