package io.aneforge.graph;

import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Var;
import io.aneforge.model.Gpt2Config;
import io.aneforge.model.ImportedModel;
import io.aneforge.tensor.FloatTensor;
import java.util.Arrays;

/**
 * GPT-2: learned positions, pre-LN blocks (LN → attention → add; LN → MLP → add), causal
 * mask built in the graph from {@code attention_mask}, final {@code ln_f}, and logits from
 * {@code lm_head} tied to {@code wte} (the table is stored once). The packed {@code c_attn}
 * {@code [3C, C]} becomes three projections (q, k, v), one per output third.
 */
final class Gpt2Graph {
    private Gpt2Graph() {
    }

    static Var[] build(ImportedModel model, MilBuilder b, WeightStore w, Layers layers, Var ids, Var mask, int seqLen) {
        Gpt2Config c = (Gpt2Config) model.config();
        int hidden = c.hiddenSize();
        double eps = c.layerNormEps();
        Var table = layers.embeddingTable("wte.weight", w.source(model, "wte.weight"));
        FloatTensor wpe = w.source(model, "wpe.weight");
        Var pos = w.weight("wpe.rows", new FloatTensor(new int[] {seqLen, hidden}, Arrays.copyOf(wpe.data(), seqLen * hidden)));
        Var x = layers.fromHub(b.add(layers.gatherTokens(table, ids), pos));
        Var causal = layers.causalMask(mask);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "h." + i + ".";
            Var h = EncoderGraph.norm(model, w, layers, x, p + "ln_1", eps);
            FloatTensor qkvW = w.source(model, p + "attn.c_attn.weight");
            FloatTensor qkvB = w.source(model, p + "attn.c_attn.bias");
            Var q = layers.project(h, p + "attn.c_attn.q", rows(qkvW, 0, hidden), rows(qkvB, 0, hidden));
            Var k = layers.project(h, p + "attn.c_attn.k", rows(qkvW, hidden, hidden), rows(qkvB, hidden, hidden));
            Var v = layers.project(h, p + "attn.c_attn.v", rows(qkvW, 2 * hidden, hidden), rows(qkvB, 2 * hidden, hidden));
            Var a = EncoderGraph.proj(model, w, layers, layers.attention(q, k, v, c.numHeads(), (float) c.attentionScale(i), causal), p + "attn.c_proj");
            x = b.add(x, a);
            h = EncoderGraph.norm(model, w, layers, x, p + "ln_2", eps);
            Var m = Graphs.activation(b, EncoderGraph.ffnIn(model, w, layers, h, p + "mlp.c_fc"), c.activation());
            x = b.add(x, EncoderGraph.proj(model, w, layers, m, p + "mlp.c_proj"));
        }
        x = EncoderGraph.norm(model, w, layers, x, "ln_f", eps);
        return new Var[] {Graphs.output(b, layers.tiedHead(x, table), Graphs.LOGITS)};
    }

    /** Rows {@code [start, start + count)} of a {@code [R, ...]} tensor (or elements of a vector). */
    static FloatTensor rows(FloatTensor t, int start, int count) {
        int[] s = t.shape().clone();
        int inner = t.size() / s[0];
        s[0] = count;
        return new FloatTensor(s, Arrays.copyOfRange(t.data(), start * inner, (start + count) * inner));
    }
}
