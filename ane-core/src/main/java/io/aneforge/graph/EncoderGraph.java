package io.aneforge.graph;

import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Var;
import io.aneforge.model.BertConfig;
import io.aneforge.model.DistilBertConfig;
import io.aneforge.model.ImportedModel;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT-family encoders (BERT, MiniLM, RoBERTa-style offsets, DistilBERT): embeddings, post-LN
 * layers (attention → add → LN; FFN → add → LN), and the pooler {@code tanh(dense(h_CLS))}
 * when the checkpoint has one (sentence-transformers exports such as all-MiniLM-L6-v2's ONNX
 * drop it: then only {@code last_hidden_state} is produced).
 *
 * <p>Token types are all 0 (no {@code token_type_ids} input): the type-0 row is folded into the
 * position rows, which are stored only for the positions a static sequence length uses.
 */
final class EncoderGraph {

    /** Hub names of one family. */
    private record Names(String word, String position, String tokenType, String embeddingNorm, String layerPrefix,
                         String query, String key, String value, String attentionOut, String attentionNorm,
                         String ffnIn, String ffnOut, String outputNorm) {
    }

    private static final Names BERT = new Names("embeddings.word_embeddings.weight",
            "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm",
            "encoder.layer.", "attention.self.query", "attention.self.key", "attention.self.value",
            "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm");

    private static final Names DISTILBERT = new Names("embeddings.word_embeddings.weight",
            "embeddings.position_embeddings.weight", null, "embeddings.LayerNorm", "transformer.layer.",
            "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1",
            "ffn.lin2", "output_layer_norm");

    private EncoderGraph() {
    }

    static Var[] build(ImportedModel model, MilBuilder b, WeightStore w, Layers layers, Var ids, Var mask, int seqLen) {
        Names n;
        int layersCount;
        int heads;
        double eps;
        String act;
        int positionOffset;
        if (model.config() instanceof BertConfig c) {
            n = BERT;
            layersCount = c.numLayers();
            heads = c.numHeads();
            eps = c.layerNormEps();
            act = c.hiddenAct();
            positionOffset = c.positionOffset();
        } else {
            DistilBertConfig c = (DistilBertConfig) model.config();
            n = DISTILBERT;
            layersCount = c.numLayers();
            heads = c.numHeads();
            eps = DistilBertConfig.LAYER_NORM_EPS;
            act = c.activation();
            positionOffset = 0;
        }
        int hidden = model.config().hiddenSize();

        Var table = layers.embeddingTable(n.word(), w.source(model, n.word()));
        FloatTensor pos = w.source(model, n.position());
        float[] rows = new float[seqLen * hidden];
        System.arraycopy(pos.data(), positionOffset * hidden, rows, 0, rows.length);
        if (n.tokenType() != null) {
            float[] type0 = w.source(model, n.tokenType()).data();
            for (int i = 0; i < rows.length; i++) {
                rows[i] += type0[i % hidden];
            }
        }
        String rowsName = n.tokenType() != null ? "embeddings.position_and_token_type" : "embeddings.position";
        Var posRows = w.weight(rowsName, new FloatTensor(new int[] {seqLen, hidden}, rows));
        Var x = layers.fromHub(b.add(layers.gatherTokens(table, ids), posRows));
        x = norm(model, w, layers, x, n.embeddingNorm(), eps);
        Var additiveMask = layers.paddingMask(mask);

        for (int i = 0; i < layersCount; i++) {
            String p = n.layerPrefix() + i + ".";
            Var q = proj(model, w, layers, x, p + n.query());
            Var k = proj(model, w, layers, x, p + n.key());
            Var v = proj(model, w, layers, x, p + n.value());
            Var a = proj(model, w, layers, layers.attention(q, k, v, heads, BaseLayers.headScale(hidden, heads), additiveMask), p + n.attentionOut());
            x = norm(model, w, layers, b.add(a, x), p + n.attentionNorm(), eps);
            Var f = Graphs.activation(b, ffnIn(model, w, layers, x, p + n.ffnIn()), act);
            f = proj(model, w, layers, f, p + n.ffnOut());
            x = norm(model, w, layers, b.add(f, x), p + n.outputNorm(), eps);
        }
        List<Var> outs = new ArrayList<>();
        outs.add(Graphs.output(b, layers.toHub(x), Graphs.LAST_HIDDEN_STATE));
        if (model.weights().containsKey("pooler.dense.weight")) {
            Var pooled = layers.pooler(x, "pooler.dense", w.source(model, "pooler.dense.weight"),
                    w.source(model, "pooler.dense.bias"));
            outs.add(Graphs.output(b, pooled, Graphs.POOLER_OUTPUT));
        }
        return outs.toArray(new Var[0]);
    }

    static Var proj(ImportedModel model, WeightStore w, Layers layers, Var x, String module) {
        return layers.project(x, module, w.source(model, module + ".weight"), w.source(model, module + ".bias"));
    }

    /** The FFN input projection: marked so that an {@code -ffn8} precision stores its weight at int8. */
    static Var ffnIn(ImportedModel model, WeightStore w, Layers layers, Var x, String module) {
        w.markFfnInput(module + ".weight");
        return proj(model, w, layers, x, module);
    }

    static Var norm(ImportedModel model, WeightStore w, Layers layers, Var x, String module, double eps) {
        return layers.layerNorm(x, module, w.source(model, module + ".weight"), w.source(model, module + ".bias"), eps);
    }
}
