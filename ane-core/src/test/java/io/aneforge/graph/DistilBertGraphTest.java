package io.aneforge.graph;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.mil.Target;
import io.aneforge.model.BertConfig;
import io.aneforge.model.DistilBertConfig;
import io.aneforge.model.ExpectedTensor;
import io.aneforge.model.ImportedModel;
import io.aneforge.tensor.FloatTensor;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** DistilBERT is a BERT without token types and pooler under other names: the same weights give the same outputs. */
class DistilBertGraphTest {

    @Test
    void distilBertEqualsBertWithRenamedWeights() {
        DistilBertConfig dc = new DistilBertConfig(50, 16, 2, 2, 32, 24, "gelu");
        SplittableRandom r = new SplittableRandom(1);
        Map<String, FloatTensor> dw = new LinkedHashMap<>();
        for (ExpectedTensor t : dc.expectedTensors()) {
            float[] v = new float[(int) FloatTensor.elementCount(t.shape())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextDouble() * 0.4 - 0.2) + (t.name().endsWith("norm.weight") ? 1 : 0);
            }
            dw.put(t.name(), new FloatTensor(t.shape(), v));
        }
        Map<String, FloatTensor> bw = new LinkedHashMap<>();
        dw.forEach((k, v) -> bw.put(k.replace("transformer.layer.", "encoder.layer.")
                .replace("attention.q_lin", "attention.self.query").replace("attention.k_lin", "attention.self.key")
                .replace("attention.v_lin", "attention.self.value").replace("attention.out_lin", "attention.output.dense")
                .replace("sa_layer_norm", "attention.output.LayerNorm").replace("ffn.lin1", "intermediate.dense")
                .replace("ffn.lin2", "output.dense").replace("output_layer_norm", "output.LayerNorm"), v));
        bw.put("embeddings.token_type_embeddings.weight", FloatTensor.zeros(2, 16));
        BertConfig bc = new BertConfig("bert", 50, 16, 2, 2, 32, 24, 2, DistilBertConfig.LAYER_NORM_EPS, "gelu", 0);
        ImportedModel distil = new ImportedModel(dc, dw, null);
        ImportedModel bert = new ImportedModel(bc, bw, null);
        Map<String, FloatTensor> in = Map.of("input_ids", new FloatTensor(new int[] {1, 8}, new float[] {1, 7, 9, 3, 49, 0, 0, 0}),
                "attention_mask", new FloatTensor(new int[] {1, 8}, new float[] {1, 1, 1, 1, 1, 0, 0, 0}));
        for (Layout layout : Layout.values()) {
            VariantSpec spec = new VariantSpec("M4", Target.IOS18, layout, Precision.FP32, 8, 0);
            BuiltGraph d = Graphs.build(distil, spec);
            BuiltGraph b = Graphs.build(bert, spec);
            assertThat(d.program().outputs()).extracting(v -> v.name()).containsExactly("last_hidden_state");
            assertThat(d.parameterCount()).isEqualTo(dw.values().stream().mapToLong(FloatTensor::size).sum());
            float[] x = ProgramEvaluator.scalar().run(d.program(), in).get("last_hidden_state").data();
            float[] y = ProgramEvaluator.scalar().run(b.program(), in).get("last_hidden_state").data();
            assertThat(x).containsExactly(y);
        }
    }

    /** {@code -ffn8} names DistilBERT's FFN input by role (ffn.lin1): int8, while ffn.lin2 stays int4. */
    @Test
    void ffn8KeepsFfnLin1AtInt8() {
        DistilBertConfig dc = new DistilBertConfig(50, 32, 2, 2, 128, 24, "gelu"); // FFN 128 x 32: above the FP16 threshold
        SplittableRandom r = new SplittableRandom(2);
        Map<String, FloatTensor> dw = new LinkedHashMap<>();
        for (ExpectedTensor t : dc.expectedTensors()) {
            float[] v = new float[(int) FloatTensor.elementCount(t.shape())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextDouble() * 0.4 - 0.2);
            }
            dw.put(t.name(), new FloatTensor(t.shape(), v));
        }
        BuiltGraph g = Graphs.build(new ImportedModel(dc, dw, null),
                new VariantSpec("M4", Target.IOS18, Layout.ANE, Precision.parse("int4-block32-affine-ffn8"), 8, 0));
        Map<String, String> scheme = new LinkedHashMap<>();
        g.reports().forEach(q -> scheme.put(q.tensor(), q.scheme()));
        for (int i = 0; i < 2; i++) {
            assertThat(scheme).containsEntry("transformer.layer." + i + ".ffn.lin1.weight", "int8-block32-affine")
                    .containsEntry("transformer.layer." + i + ".ffn.lin2.weight", "int4-block32-affine");
        }
    }
}
