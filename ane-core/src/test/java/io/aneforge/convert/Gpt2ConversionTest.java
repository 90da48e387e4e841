package io.aneforge.convert;

import static io.aneforge.convert.PlainLoops.ids;
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
                double[][] a = layerNorm(x, m.weight(p + "ln_1.weight").data(), m.weight(p + "ln_1.bias").data(), c.layerNormEps());
                double[][] qkv = dense(a, m.weight(p + "attn.c_attn.weight"), m.weight(p + "attn.c_attn.bias").data());
                double[][] ctx = new double[s][h];
                for (int hd = 0; hd < heads; hd++) {
                    for (int q = 0; q < s; q++) {
                        double[] sc = new double[s];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int k = 0; k < s; k++) {
                            if (k > q || k >= real) {
                                sc[k] = Double.NEGATIVE_INFINITY;
                                continue;
                            }
                            double dot = 0;
                            for (int j = 0; j < d; j++) {
                                dot += qkv[q][hd * d + j] * qkv[k][h + hd * d + j];
                            }
                            // GPT2Attention._attn: divided by sqrt(head_dim) when scale_attn_weights, and by
                            // (layer_idx + 1) when scale_attn_by_inverse_layer_idx
                            sc[k] = c.scaleAttnWeights() ? dot / Math.sqrt(d) : dot;
                            if (c.scaleAttnByInverseLayerIdx()) {
                                sc[k] /= l + 1;
                            }
                            max = Math.max(max, sc[k]);
                        }
                        double sum = 0;
                        for (int k = 0; k < s; k++) {
                            sc[k] = Math.exp(sc[k] - max);
                            sum += sc[k];
                        }
                        for (int k = 0; k < s; k++) {
                            for (int j = 0; j < d; j++) {
                                ctx[q][hd * d + j] += sc[k] / sum * qkv[k][2 * h + hd * d + j];
                            }
                        }
                    }
                }
                double[][] o = dense(ctx, m.weight(p + "attn.c_proj.weight"), m.weight(p + "attn.c_proj.bias").data());
                add(x, o);
                double[][] b = layerNorm(x, m.weight(p + "ln_2.weight").data(), m.weight(p + "ln_2.bias").data(), c.layerNormEps());
                double[][] f = dense(b, m.weight(p + "mlp.c_fc.weight"), m.weight(p + "mlp.c_fc.bias").data());
                for (double[] row : f) {
                    for (int j = 0; j < row.length; j++) {
                        double v = row[j];
                        row[j] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                    }
                }
                add(x, dense(f, m.weight(p + "mlp.c_proj.weight"), m.weight(p + "mlp.c_proj.bias").data()));
            }
            double[][] y = layerNorm(x, m.weight("ln_f.weight").data(), m.weight("ln_f.bias").data(), c.layerNormEps());
            int v = c.vocabSize();
            float[] out = new float[s * v];
            for (int t = 0; t < s; t++) {
                for (int tok = 0; tok < v; tok++) {
                    double acc = 0;
                    for (int j = 0; j < h; j++) {
                        acc += y[t][j] * wte[tok * h + j];
                    }
                    out[t * v + tok] = (float) acc;
                }
            }
            return new FloatTensor(new int[] {1, s, v}, out);
        }

        static double[][] layerNorm(double[][] x, float[] g, float[] b, double eps) {
            return PlainLoops.norm(x, g, b, eps);
        }

        /** {@code x · W^T + b} with W {@code [out, in]}. */
        static double[][] dense(double[][] x, FloatTensor w, float[] bias) {
            int out = w.shape()[0];
            int in = w.shape()[1];
            double[][] y = new double[x.length][out];
            for (int t = 0; t < x.length; t++) {
                for (int o = 0; o < out; o++) {
                    double acc = bias[o];
                    for (int i = 0; i < in; i++) {
                        acc += x[t][i] * w.data()[o * in + i];
                    }
                    y[t][o] = acc;
                }
            }
            return y;
        }

        static void add(double[][] x, double[][] y) {
            for (int t = 0; t < x.length; t++) {
                for (int j = 0; j < x[t].length; j++) {
                    x[t][j] += y[t][j];
                }
            }
        }
    }
}
