package io.aneforge.graph;

import io.aneforge.mil.Var;
import io.aneforge.tensor.FloatTensor;

/**
 * The layout-dependent half of a transformer graph. Activations passed between these
 * calls are in the layout's own form ({@code (B, S, C)} or {@code (B, C, 1, S)}); the
 * architecture code never looks at their axes.
 */
public interface Layers {

    /** Embeddings {@code (1, S, C)} (Hub layout, as gathered) to the layout's activation form. */
    Var fromHub(Var bsc);

    /** The layout's activation back to {@code (1, S, C)}. */
    Var toHub(Var x);

    /**
     * A projection: {@code weight [out, in]} and {@code bias [out]} applied over the channel
     * axis (linear, or a 1×1 conv). {@code name} names the stored weight ({@code <name>.weight}).
     */
    Var project(Var x, String name, FloatTensor weight, FloatTensor bias);

    /** LayerNorm over the channel axis with the true gamma and beta. */
    Var layerNorm(Var x, String name, FloatTensor gamma, FloatTensor beta, double epsilon);

    /**
     * Multi-head dot-product attention of already projected q, k, v, scores {@code scale · q·k} (q is
     * scaled before the product, which keeps FP16 scores small) plus the additive mask from
     * {@link #paddingMask} or {@link #causalMask}.
     */
    Var attention(Var q, Var k, Var v, int heads, float scale, Var mask);

    /** Additive key mask {@code (1 - m) · -1e4} from {@code attention_mask} (1, S) int32, shaped for {@link #attention}. */
    Var paddingMask(Var attentionMask);

    /**
     * {@link #paddingMask} plus an additive bias per head on the attention scores, {@code bias[h][q][k] =
     * table[buckets[q·S + k]][h]} (MPNet's relative position bias): made once and passed to every layer's
     * {@link #attention} as its mask. Its form is the layout's: {@code (1, H, Sq, Sk)} for batched attention,
     * {@code (H, Sk, 1, Sq)} (one {@code (1, Sk, 1, Sq)} slice per head) for the per-head split.
     *
     * @param table   {@code (buckets, H)} in the compute type
     * @param buckets row-major {@code (S, S)} bucket of each query and key, each a row of {@code table}
     */
    Var relativeBiasMask(Var attentionMask, Var table, int[] buckets, int heads);

    /** Additive mask allowing key k for query q when {@code k <= q} and key k is not padding. */
    Var causalMask(Var attentionMask);

    /**
     * The first token's vector ({@code [CLS]}, RoBERTa's {@code <s>}) in the layout's activation form with one
     * position: {@code (1, 1, C)} or {@code (1, C, 1, 1)}, so {@link #project} applies to it.
     */
    Var firstToken(Var x);

    /** The first token's vector projected and passed through tanh: BERT's pooler, {@code (1, C)}. */
    Var pooler(Var x, String name, FloatTensor weight, FloatTensor bias);

    /** Logits {@code (1, S, V)} against a tied embedding table, given as the table var {@link #embeddingTable} made. */
    Var tiedHead(Var x, Var table);

    /**
     * Like {@link #tiedHead(Var, Var)} plus a bias {@code [V]} stored as {@code biasName} (a masked-LM head's
     * decoder, tied to the word embeddings: the table is stored once).
     */
    Var tiedHead(Var x, Var table, String biasName, FloatTensor bias);

    /** Stores an embedding table {@code [V, C]} in the form this layout's gather and tied head read. */
    Var embeddingTable(String name, FloatTensor table);

    /** Token embeddings {@code (1, S, C)} gathered from a table made by {@link #embeddingTable}. */
    Var gatherTokens(Var table, Var inputIds);
}
