package io.aneforge.graph;

import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Var;
import io.aneforge.model.BertConfig;
import io.aneforge.model.DistilBertConfig;
import io.aneforge.model.ImportedModel;
import io.aneforge.model.MpnetConfig;
import io.aneforge.model.TaskHead;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT-family encoders (BERT, MiniLM, RoBERTa-style offsets and XLM-RoBERTa/CamemBERT, DistilBERT, MPNet): embeddings, post-LN
 * layers (attention → add → LN; FFN → add → LN), and the pooler {@code tanh(dense(h_CLS))}
 * when the checkpoint has one (sentence-transformers exports such as all-MiniLM-L6-v2's ONNX
 * drop it: then only {@code last_hidden_state} is produced). A model with a {@link TaskHead} outputs
 * the head's logits instead ({@link #head}).
 *
 * <p>Without a {@code token_type_ids} input every token is segment 0: the type-0 row is folded into
 * the position rows, which are stored only for the positions a static sequence length uses. With it
 * ({@link ImportedModel#tokenTypeInput}), each token's type row is gathered from the table like a word
 * embedding and added to the word and position rows.
 *
 * <p>MPNet adds one relative position bias to every layer's attention scores ({@link MpnetConfig}): its
 * {@code (buckets, heads)} table is stored as it is (FP16 or FP32, never quantized: 32 × heads values) with the
 * {@code (S, S)} bucket of each query and key as an int32 constant, gathered once per prediction into the
 * {@code (heads, S, S)} bias and added to the padding mask ({@link Layers#relativeBiasMask}); the layers then add that
 * mask as they add the padding mask alone. A constant {@code (heads, S, S)} bias would be the same floats (the
 * table's, gathered), but 12 × 512 × 512 FP16 values are 6 MiB for all-mpnet-base-v2 at S = 512 against 256 KiB of
 * bucket indices, and as a large 3-D weight it would be quantized with the projections under int8/int4. Below iOS 18
 * the indices are an immediate value in model.mlmodel (int32 goes to weight.bin only from iOS 18, as coremltools
 * writes it: {@code ProgramCodec}), where each bucket (0..31) is one varint byte: 256 KiB at S = 512, far inside the
 * reader's 64 MiB bound on model.mlmodel; from iOS 18 they are a 1 MiB int32 blob in weight.bin.
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

    private static final Names MPNET = new Names("embeddings.word_embeddings.weight",
            "embeddings.position_embeddings.weight", null, "embeddings.LayerNorm", "encoder.layer.", "attention.attn.q",
            "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm", "intermediate.dense",
            "output.dense", "output.LayerNorm");

    private static final Names DISTILBERT = new Names("embeddings.word_embeddings.weight",
            "embeddings.position_embeddings.weight", null, "embeddings.LayerNorm", "transformer.layer.",
            "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1",
            "ffn.lin2", "output_layer_norm");

    private EncoderGraph() {
    }

    /** @param types the {@code token_type_ids} input, or null to fold the type-0 row into the position rows */
    static Var[] build(ImportedModel model, MilBuilder b, WeightStore w, Layers layers, Var ids, Var mask, Var types,
                       int seqLen) {
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
        } else if (model.config() instanceof MpnetConfig c) {
            n = MPNET;
            layersCount = c.numLayers();
            heads = c.numHeads();
            eps = c.layerNormEps();
            act = c.hiddenAct();
            positionOffset = MpnetConfig.POSITION_OFFSET;
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
        boolean fold = n.tokenType() != null && types == null;
        if (fold) {
            float[] type0 = w.source(model, n.tokenType()).data();
            for (int i = 0; i < rows.length; i++) {
                rows[i] += type0[i % hidden];
            }
        }
        String rowsName = fold ? "embeddings.position_and_token_type" : "embeddings.position";
        Var posRows = w.weight(rowsName, new FloatTensor(new int[] {seqLen, hidden}, rows));
        Var embedded = b.add(layers.gatherTokens(table, ids), posRows); // (1, S, C)
        if (types != null) {
            Var typeTable = layers.embeddingTable(n.tokenType(), w.source(model, n.tokenType()));
            embedded = b.add(embedded, layers.gatherTokens(typeTable, types));
        }
        Var x = layers.fromHub(embedded);
        x = norm(model, w, layers, x, n.embeddingNorm(), eps);
        Var additiveMask = model.config() instanceof MpnetConfig
                ? layers.relativeBiasMask(mask, w.vector(MpnetConfig.RELATIVE_BIAS, w.source(model, MpnetConfig.RELATIVE_BIAS)),
                        MpnetConfig.positionBuckets(seqLen), heads)
                : layers.paddingMask(mask);

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
        if (model.head() != null) {
            return head(model, b, w, layers, x, table, seqLen);
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

    /**
     * The task head's outputs, and only them (what Hugging Face's head models return without
     * {@code output_hidden_states}; the pipelines read nothing else). Dropout is the identity at inference.
     * <ul>
     * <li>sequence classification, {@code logits (1, L)}: BERT {@code classifier(tanh(pooler.dense(h_0)))};
     * RoBERTa {@code classifier.out_proj(tanh(classifier.dense(h_0)))} (no pooler); DistilBERT
     * {@code classifier(relu(pre_classifier(h_0)))}, with {@code h_0} the first token's last hidden state</li>
     * <li>token classification, {@code logits (1, S, L)}: {@code classifier(h)} per token</li>
     * <li>question answering, {@code start_logits} and {@code end_logits (1, S)}: the two rows of
     * {@code qa_outputs(h)}</li>
     * <li>masked LM, {@code logits (1, S, V)}: {@code decoder(norm(act(transform(h))))} per token, the decoder the
     * word embedding table (stored once, as GPT-2's tied {@code lm_head}) plus the vocabulary bias, or the checkpoint's
     * own decoder with {@code tie_word_embeddings} false. BERT {@code cls.predictions.transform.dense} →
     * {@code hidden_act} → {@code transform.LayerNorm}; RoBERTa {@code lm_head.dense} → exact gelu (whatever
     * {@code hidden_act} says) → {@code lm_head.layer_norm}; DistilBERT {@code vocab_transform} → {@code activation}
     * → {@code vocab_layer_norm} (eps 1e-12)</li>
     * <li>pre-training (BERT only), {@code prediction_logits (1, S, V)}: the masked-LM head above, and
     * {@code seq_relationship_logits (1, 2)}: {@code cls.seq_relationship(tanh(pooler.dense(h_0)))}, the
     * next-sentence logits (index 0: the second segment follows the first)</li>
     * </ul>
     *
     * @param table the word embedding table as {@link Layers#embeddingTable} stored it
     */
    private static Var[] head(ImportedModel model, MilBuilder b, WeightStore w, Layers layers, Var x, Var table,
                              int seqLen) {
        TaskHead head = model.head();
        int labels = head.numLabels();
        switch (head.kind()) {
            case SEQUENCE_CLASSIFICATION -> {
                Var first = layers.firstToken(x);
                Var logits = switch (model.config().headFamily()) {
                    case "roberta" -> proj(model, w, layers, b.tanh(proj(model, w, layers, first, "classifier.dense")),
                            "classifier.out_proj");
                    case "distilbert" -> proj(model, w, layers, b.op("relu").arg("x",
                            proj(model, w, layers, first, "pre_classifier")).build(), "classifier");
                    default -> proj(model, w, layers, b.tanh(proj(model, w, layers, first, "pooler.dense")),
                            "classifier");
                };
                return new Var[] {Graphs.output(b, b.reshape(logits, 1, labels), Graphs.LOGITS)};
            }
            case TOKEN_CLASSIFICATION -> {
                return new Var[] {Graphs.output(b, layers.toHub(proj(model, w, layers, x, "classifier")), Graphs.LOGITS)};
            }
            case QUESTION_ANSWERING -> {
                List<Var> startEnd = b.split(layers.toHub(proj(model, w, layers, x, "qa_outputs")), 2, 2); // 2 x (1, S, 1)
                return new Var[] {Graphs.output(b, b.reshape(startEnd.get(0), 1, seqLen), Graphs.START_LOGITS),
                    Graphs.output(b, b.reshape(startEnd.get(1), 1, seqLen), Graphs.END_LOGITS)};
            }
            case MASKED_LM -> {
                return new Var[] {Graphs.output(b, maskedLm(model, b, w, layers, x, table), Graphs.LOGITS)};
            }
            case PRE_TRAINING -> {
                // BertPreTrainingHeads: the masked-LM head over every token, the next-sentence head over the pooler
                Var predictions = maskedLm(model, b, w, layers, x, table);
                Var pooled = b.tanh(proj(model, w, layers, layers.firstToken(x), "pooler.dense"));
                Var nsp = proj(model, w, layers, pooled, TaskHead.SEQ_RELATIONSHIP);
                return new Var[] {Graphs.output(b, predictions, TaskHead.PREDICTION_LOGITS),
                    Graphs.output(b, b.reshape(nsp, 1, 2), TaskHead.SEQ_RELATIONSHIP_LOGITS)};
            }
            default -> throw new IllegalStateException("no graph for task head " + head.kind());
        }
    }

    /** A masked-LM head's logits {@code (1, S, V)} over the last hidden states {@code x} (see {@link #head}). */
    private static Var maskedLm(ImportedModel model, MilBuilder b, WeightStore w, Layers layers, Var x, Var table) {
        TaskHead.MaskedLmNames n = TaskHead.maskedLmNames(model.config().headFamily());
        String act;
        double eps;
        if (model.config() instanceof BertConfig c) {
            act = n.fixedGelu() ? "gelu" : c.hiddenAct();
            eps = c.layerNormEps();
        } else if (model.config() instanceof MpnetConfig c) {
            act = "gelu"; // MPNetLMHead, like RobertaLMHead, applies exact gelu whatever hidden_act says
            eps = c.layerNormEps();
        } else {
            act = ((DistilBertConfig) model.config()).activation();
            eps = DistilBertConfig.LAYER_NORM_EPS;
        }
        Var t = Graphs.activation(b, proj(model, w, layers, x, n.transform()), act);
        t = norm(model, w, layers, t, n.norm(), eps);
        FloatTensor bias = w.source(model, n.bias());
        return model.head().tiedDecoder() ? layers.tiedHead(t, table, n.bias(), bias)
                : layers.toHub(layers.project(t, n.decoder(), w.source(model, n.decoder() + ".weight"), bias));
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
