package io.aneforge.convert;

import static io.aneforge.convert.PlainLoops.activation;
import static io.aneforge.convert.PlainLoops.attention;
import static io.aneforge.convert.PlainLoops.decode;
import static io.aneforge.convert.PlainLoops.dense;
import static io.aneforge.convert.PlainLoops.ids;
import static io.aneforge.convert.PlainLoops.norm;
import static io.aneforge.convert.PlainLoops.tensor;
import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.eval.Fidelity;
import io.aneforge.eval.FidelityReport;
import io.aneforge.mil.Operation;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.model.Gpt2Config;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.ModelImporter;
import io.aneforge.source.ModelSnapshot;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.testsupport.models.TinyModels;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPT-2 (tiny random config): both layouts agree with each other and with a plain-loop implementation written here. */
class Gpt2ConversionTest {
    static final int SEQ = 12;
    static final int REAL = 9; // the last 3 positions are padding

    @TempDir
    Path dir;

    @Test
    void aneAndStandardMatchAPlainLoopGpt2() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.gpt2(dir.resolve("g"), 5), null));
        Gpt2Config c = (Gpt2Config) model.config();
        Map<String, FloatTensor> in = inputs(c.vocabSize());
        FloatTensor expected = PlainGpt2.logits(model, ids(in), REAL);

        Map<Layout, FloatTensor> got = new LinkedHashMap<>();
        for (Layout layout : Layout.values()) {
            BuiltVariant v = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP32, SEQ, 0));
            assertThat(v.program().outputs()).extracting(o -> o.name()).containsExactly("logits");
            assertThat(v.program().outputs().get(0).shape()).containsExactly(1, SEQ, c.vocabSize());
            got.put(layout, ProgramEvaluator.scalar().run(v.program(), in).get("logits"));
        }
        FidelityReport aneVsStandard = Fidelity.compareLogits(got.get(Layout.STANDARD), got.get(Layout.ANE));
        FidelityReport standardVsPlain = Fidelity.compareLogits(expected, got.get(Layout.STANDARD));
        FidelityReport aneVsPlain = Fidelity.compareLogits(expected, got.get(Layout.ANE));
        System.out.println("gpt2 ane vs standard: " + aneVsStandard + "\nstandard vs plain: " + standardVsPlain
                + "\nane vs plain: " + aneVsPlain);
        for (FidelityReport r : new FidelityReport[] {aneVsStandard, standardVsPlain, aneVsPlain}) {
            assertThat(r.cosineMin()).isGreaterThanOrEqualTo(0.9999);
            assertThat(r.maxAbsError()).isLessThan(1e-4);
            assertThat(r.top1Agreement()).isEqualTo(1.0);
        }
    }

    /**
     * {@code scale_attn_weights: false} and {@code scale_attn_by_inverse_layer_idx: true} change the attention
     * scores; both layouts follow the plain loop with the flags (they were ignored: the packages computed the
     * default scaling, and the golden outputs, from the same graph, agreed).
     */
    @Test
    void attentionScaleFlagsOfTheConfigAreHonoured() throws Exception {
        Path plainDir = TinyModels.gpt2(dir.resolve("g"), 5);
        Path flagged = TinyModels.gpt2(dir.resolve("flags"), 5);
        String config = java.nio.file.Files.readString(flagged.resolve("config.json"));
        java.nio.file.Files.writeString(flagged.resolve("config.json"), config.replace("\"activation_function\"",
                "\"scale_attn_weights\": false, \"scale_attn_by_inverse_layer_idx\": true, \"activation_function\""));
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(flagged, null));
        Gpt2Config c = (Gpt2Config) model.config();
        assertThat(c.scaleAttnWeights()).isFalse();
        assertThat(c.scaleAttnByInverseLayerIdx()).isTrue();
        Map<String, FloatTensor> in = inputs(c.vocabSize());
        FloatTensor expected = PlainGpt2.logits(model, ids(in), REAL);
        FloatTensor defaults = PlainGpt2.logits(ModelImporter.importWeights(ModelSnapshot.of(plainDir, null)), ids(in), REAL);
        // the flags matter for these weights: the default scaling gives other logits
        assertThat(Fidelity.compareLogits(expected, defaults).maxAbsError()).isGreaterThan(1e-3);
        for (Layout layout : Layout.values()) {
            BuiltVariant v = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.FP32, SEQ, 0));
            FidelityReport r = Fidelity.compareLogits(expected, ProgramEvaluator.scalar().run(v.program(), in).get("logits"));
            assertThat(r.maxAbsError()).as(layout.name()).isLessThan(1e-4);
            assertThat(r.top1Agreement()).isEqualTo(1.0);
        }
    }

    @Test
    void quantizedVariantsTrackTheFp32Logits() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.gpt2(dir.resolve("g"), 5), null));
        Map<String, FloatTensor> in = inputs(((Gpt2Config) model.config()).vocabSize());
        var golden = new io.aneforge.eval.GoldenOutputs(java.util.List.of(io.aneforge.eval.GoldenOutputs.Sample.of("s0",
                ProgramEvaluator.runtime().run(VariantConverter.build(model, Golden.referenceSpec(SEQ)).program(), in))));
        for (Layout layout : Layout.values()) {
            for (String p : java.util.List.of("fp16", "int8-channel", "int8-block32", "int4-block32", "int4-block32-affine-ffn8")) {
                VariantSpec spec = new VariantSpec("A17_PRO", Target.IOS18, layout, Precision.parse(p), SEQ, 0);
                BuiltVariant v = VariantConverter.build(model, spec);
                FidelityReport f = VariantFidelity.of(golden, java.util.List.of(ProgramEvaluator.runtime().run(v.program(), in)))
                        .get("logits");
                System.out.printf("gpt2 %s: cosine %.6f top1 %.3f%n", spec.id(), f.cosineMean(), f.top1Agreement());
                assertThat(f.top1Agreement()).isNotNull();
                assertThat(f.cosineMean()).as(spec.id()).isGreaterThanOrEqualTo(p.equals("fp16") ? 0.9999 : p.startsWith("int8") ? 0.999 : 0.98);
                // the tied table is stored once: wte appears in one report only
                assertThat(v.reports()).filteredOn(r -> r.tensor().startsWith("wte")).hasSize(1);
                if (spec.precision().ffn8()) {
                    // mlp.c_fc is GPT-2's FFN input (32 x 128: quantized): int8 under -ffn8, its c_proj stays int4
                    assertThat(v.reports()).filteredOn(r -> r.tensor().endsWith("mlp.c_fc.weight")).hasSize(TinyModels.LAYERS)
                            .allMatch(r -> r.scheme().equals("int8-block32-affine"));
                    assertThat(v.reports()).filteredOn(r -> r.tensor().endsWith("mlp.c_proj.weight")).hasSize(TinyModels.LAYERS)
                            .allMatch(r -> r.scheme().equals("int4-block32-affine"));
                }
            }
        }
    }

    @Test
    void aneLayoutFollowsTheRules() throws Exception {
        ImportedModel model = ModelImporter.importWeights(ModelSnapshot.of(TinyModels.gpt2(dir.resolve("g"), 5), null));
        Program p = VariantConverter.build(model, new VariantSpec("A17_PRO", Target.IOS18, Layout.ANE, Precision.FP16, SEQ, 0)).program();
        // R2: no linear/matmul projections; only the in-graph causal mask uses a matmul (outer product with ones)
        assertThat(p.operations()).noneMatch(o -> o.type().equals("linear"));
        assertThat(p.operations().stream().filter(o -> o.type().equals("matmul")).count()).isEqualTo(1);
        // R4: exactly the two accepted einsum patterns, one pair per head per layer
        long einsums = p.operations().stream().filter(o -> o.type().equals("einsum")).count();
        assertThat(einsums).isEqualTo(2L * TinyModels.LAYERS * TinyModels.HEADS);
        assertThat(p.operations().stream().filter(o -> o.type().equals("einsum"))
                .map(o -> o.inputs().get("equation").get(0).toString()).distinct())
                .hasSize(2).allMatch(s -> s.contains("bkhc,bchq->bkhq") || s.contains("bchk,bkhq->bchq"));
        // R6: layer norms over axis 1; R5: masks are finite (no -inf anywhere in constants)
        for (Operation o : p.operations()) {
            if (o.type().equals("layer_norm")) {
                assertThat(o.inputs().get("axes").get(0).toString()).contains("[1]");
                assertThat(o.inputs().get("epsilon").get(0).toString()).doesNotContain("0.0]");
            }
        }
        // fp16: int32 inputs, fp32 output through a final cast (as coremltools writes FP16 programs)
        assertThat(p.inputs()).allMatch(v -> v.dtype() == io.aneforge.mil.DType.INT32);
        Operation last = p.producer("logits");
        assertThat(last.type()).isEqualTo("cast");
        assertThat(p.outputs().get(0).dtype()).isEqualTo(io.aneforge.mil.DType.FP32);
    }

    static Map<String, FloatTensor> inputs(int vocab) {
        SplittableRandom r = new SplittableRandom(42);
        float[] ids = new float[SEQ];
        float[] mask = new float[SEQ];
        for (int i = 0; i < SEQ; i++) {
            ids[i] = r.nextInt(vocab);
            mask[i] = i < REAL ? 1 : 0;
        }
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put("input_ids", new FloatTensor(new int[] {1, SEQ}, ids));
        m.put("attention_mask", new FloatTensor(new int[] {1, SEQ}, mask));
        return m;
    }

    /** GPT-2 forward pass in plain Java loops, straight from the Hugging Face implementation (no MIL). */
    static final class PlainGpt2 {
        static FloatTensor logits(ImportedModel m, int[] ids, int real) {
            Gpt2Config c = (Gpt2Config) m.config();
            int s = ids.length;
            int h = c.hiddenSize();
            int heads = c.numHeads();
            int d = h / heads;
            float[] wte = m.weight("wte.weight").data();
            float[] wpe = m.weight("wpe.weight").data();
            double[][] x = new double[s][h];
            for (int t = 0; t < s; t++) {
                for (int j = 0; j < h; j++) {
                    x[t][j] = wte[ids[t] * h + j] + wpe[t * h + j];
                }
            }
            for (int l = 0; l < c.numLayers(); l++) {
                String p = "h." + l + ".";
                double[][] a = norm(m, x, p + "ln_1", c.layerNormEps());
                double[][] qkv = dense(m, a, p + "attn.c_attn"); // the query, key and value rows side by side
                int layer = l;
                double[][] ctx = attention(columns(qkv, 0, h), columns(qkv, h, 2 * h), columns(qkv, 2 * h, 3 * h), heads,
                        (hd, q, k, dot) -> {
                            if (k > q || k >= real) {
                                return Double.NEGATIVE_INFINITY; // causal, and padding
                            }
                            // GPT2Attention._attn: divided by sqrt(head_dim) when scale_attn_weights, and by
                            // (layer_idx + 1) when scale_attn_by_inverse_layer_idx
                            double score = c.scaleAttnWeights() ? dot / Math.sqrt(d) : dot;
                            return c.scaleAttnByInverseLayerIdx() ? score / (layer + 1) : score;
                        });
                x = PlainLoops.add(x, dense(m, ctx, p + "attn.c_proj"));
                double[][] f = activation(dense(m, norm(m, x, p + "ln_2", c.layerNormEps()), p + "mlp.c_fc"), "gelu_new");
                x = PlainLoops.add(x, dense(m, f, p + "mlp.c_proj"));
            }
            double[][] y = norm(m, x, "ln_f", c.layerNormEps());
            // the LM head is tied to wte and has no bias
            return tensor(decode(y, wte, new float[c.vocabSize()]), 1, s, c.vocabSize());
        }

        /** Columns {@code [from, to)} of every row. */
        static double[][] columns(double[][] x, int from, int to) {
            double[][] y = new double[x.length][];
            for (int t = 0; t < x.length; t++) {
                y[t] = java.util.Arrays.copyOfRange(x[t], from, to);
            }
            return y;
        }
    }
}
