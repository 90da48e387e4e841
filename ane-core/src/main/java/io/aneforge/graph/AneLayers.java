package io.aneforge.graph;

import io.aneforge.mil.Constant;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Var;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Apple's ANE layout (CONVERTER.md R1–R9): activations {@code (1, C, 1, S)}, every projection
 * a 1×1 conv, LayerNorm over axis 1, attention split per head along channels with the two
 * einsum patterns Core ML accepts, additive FP16-safe masks. With a query chunk, each head's
 * scores are computed for {@code chunk} queries at a time against all keys (exact; the largest
 * intermediate shrinks from {@code Sk·Sq} to {@code Sk·chunk} per head).
 */
public final class AneLayers extends BaseLayers {
    private final int chunk;
    /** Per-chunk slices of a causal mask, made once and shared by every layer and head. */
    private final Map<String, List<Var>> maskChunks = new HashMap<>();
    /** Per-head slices of a {@link #relativeBiasMask}, made once and shared by every layer. */
    private final Map<String, List<Var>> headMasks = new HashMap<>();

    /** @param chunk query chunk, 0 (or {@code >= seqLen}) for none */
    public AneLayers(MilBuilder b, WeightStore weights, int seqLen, int chunk) {
        super(b, weights, seqLen);
        this.chunk = chunk > 0 && chunk < seqLen ? chunk : 0;
    }

    @Override
    public Var fromHub(Var bsc) {
        return b.expandDims(b.transpose(bsc, 0, 2, 1), 2); // (1, S, C) -> (1, C, S) -> (1, C, 1, S)
    }

    @Override
    public Var toHub(Var x) {
        return b.transpose(b.squeeze(x, 2), 0, 2, 1);
    }

    @Override
    public Var project(Var x, String name, FloatTensor weight, FloatTensor bias) {
        int[] s = weight.shape();
        Var w = weights.weight(name + ".weight", weight, s[0], s[1], 1, 1);
        return b.conv(weights.activation(x, name + ".weight"), w, weights.vector(name + ".bias", bias));
    }

    @Override
    public Var layerNorm(Var x, String name, FloatTensor gamma, FloatTensor beta, double epsilon) {
        return b.layerNorm(x, new int[] {1}, weights.vector(name + ".weight", gamma), weights.vector(name + ".bias", beta),
                epsilon(epsilon));
    }

    @Override
    public Var attention(Var q, Var k, Var v, int heads, float scale, Var mask) {
        int c = q.shape()[1];
        List<Var> qs = b.split(scaled(q, scale), 1, heads); // H x (1, d, 1, Sq)
        List<Var> ks = b.split(b.transpose(k, 0, 3, 2, 1), 3, heads); // (1, Sk, 1, C) -> H x (1, Sk, 1, d)
        List<Var> vs = b.split(v, 1, heads); // H x (1, d, 1, Sk)
        List<Var> headMask = perHead(mask, heads);
        List<Var> contexts = new ArrayList<>();
        for (int h = 0; h < heads; h++) {
            if (chunk == 0) {
                contexts.add(head(ks.get(h), qs.get(h), vs.get(h), headMask.get(h)));
                continue;
            }
            List<Var> qChunks = b.splitSizes(qs.get(h), 3, chunkSizes());
            List<Var> masks = chunkedMask(headMask.get(h));
            List<Var> parts = new ArrayList<>();
            for (int i = 0; i < qChunks.size(); i++) {
                parts.add(head(ks.get(h), qChunks.get(i), vs.get(h), masks.get(i)));
            }
            contexts.add(b.concat(3, parts)); // (1, d, 1, Sq)
        }
        return b.concat(1, contexts); // (1, C, 1, Sq)
    }

    /** One head (or one query chunk of it): scores (1, Sk, 1, Sq), softmax over keys, context (1, d, 1, Sq). */
    private Var head(Var kh, Var qh, Var vh, Var mask) {
        Var scores = b.add(b.einsum("bkhc,bchq->bkhq", kh, qh), mask);
        Var w = b.softmax(scores, 1);
        return b.einsum("bchk,bkhq->bchq", vh, w);
    }

    private int[] chunkSizes() {
        int n = (seqLen + chunk - 1) / chunk;
        int[] sizes = new int[n];
        for (int i = 0; i < n; i++) {
            sizes[i] = Math.min(chunk, seqLen - i * chunk);
        }
        return sizes;
    }

    /** The mask each head adds: the same for all, or a {@link #relativeBiasMask}'s {@code (1, Sk, 1, Sq)} slice of head h. */
    private List<Var> perHead(Var mask, int heads) {
        if (mask.shape()[0] == 1) {
            return java.util.Collections.nCopies(heads, mask);
        }
        if (mask.shape()[0] != heads) {
            throw new GraphException("a per-head mask of " + mask.shape()[0] + " heads for attention with " + heads);
        }
        return headMasks.computeIfAbsent(mask.name(), n -> b.split(mask, 0, heads));
    }

    /** A padding mask (1, Sk, 1, 1) serves every chunk; a causal mask (1, Sk, 1, Sq) is sliced along the queries. */
    private List<Var> chunkedMask(Var mask) {
        int[] sizes = chunkSizes();
        if (mask.shape()[3] == 1) {
            List<Var> same = new ArrayList<>();
            for (int ignored : sizes) {
                same.add(mask);
            }
            return same;
        }
        return maskChunks.computeIfAbsent(mask.name(), n -> b.splitSizes(mask, 3, sizes));
    }

    @Override
    public Var paddingMask(Var attentionMask) {
        return b.reshape(additive(maskInCompute(attentionMask)), 1, seqLen, 1, 1); // (1, Sk, 1, 1)
    }

    @Override
    public Var relativeBiasMask(Var attentionMask, Var table, int[] buckets, int heads) {
        // [k, q] = m[k], spread over the queries by an outer product with ones as the causal mask is, so a sequence
        // prefix (SequencePrefix) follows both axes and cuts the bias, computed from constants, with them
        Var keys = b.matmul(b.reshape(maskInCompute(attentionMask), seqLen, 1), ones(1, seqLen), false, false);
        int[] keyMajor = new int[buckets.length]; // [k][q]: the per-head split's scores are (1, Sk, 1, Sq)
        for (int q = 0; q < seqLen; q++) {
            for (int k = 0; k < seqLen; k++) {
                keyMajor[k * seqLen + q] = buckets[q * seqLen + k];
            }
        }
        Var indices = b.constant(Constant.int32(keyMajor, seqLen, 1, seqLen));
        Var bias = b.transpose(b.gather(table, indices, 0), 3, 0, 1, 2); // (Sk, 1, Sq, H) -> (H, Sk, 1, Sq)
        return b.add(bias, b.expandDims(additive(keys), 1)); // (H, Sk, 1, Sq): head h's mask is slice h
    }

    @Override
    public Var causalMask(Var attentionMask) {
        // [k, q] = m[k], then keep k <= q (band_part keeps i - j <= lower = 0)
        Var keys = b.matmul(b.reshape(maskInCompute(attentionMask), seqLen, 1), ones(1, seqLen), false, false);
        Var allowed = b.bandPart(keys, 0, -1);
        return b.reshape(additive(allowed), 1, seqLen, 1, seqLen); // (1, Sk, 1, Sq)
    }

    @Override
    public Var firstToken(Var x) {
        return b.sliceByIndex(x, new int[] {0, 0, 0, 0}, new int[] {1, x.shape()[1], 1, 1}); // R8: x[:, :, :, 0:1]
    }

    @Override
    public Var pooler(Var x, String name, FloatTensor weight, FloatTensor bias) {
        return b.reshape(b.tanh(project(firstToken(x), name, weight, bias)), 1, x.shape()[1]);
    }

    /** Stored {@code [V, C, 1, 1]}: the gather reads rows, the tied head uses it as a 1×1 conv weight without a copy. */
    @Override
    public Var embeddingTable(String name, FloatTensor table) {
        int[] s = table.shape();
        return weights.weight(name, table, s[0], s[1], 1, 1);
    }

    @Override
    public Var gatherTokens(Var table, Var inputIds) {
        int c = table.shape()[1];
        return b.reshape(b.gather(table, inputIds, 0), 1, seqLen, c); // (1, S, C, 1, 1) -> (1, S, C)
    }

    @Override
    public Var tiedHead(Var x, Var table) {
        return toHub(b.conv(weights.activation(x, table.name()), table, null)); // (1, V, 1, S) -> (1, S, V)
    }

    @Override
    public Var tiedHead(Var x, Var table, String biasName, FloatTensor bias) {
        return toHub(b.conv(weights.activation(x, table.name()), table, weights.vector(biasName, bias))); // (1, V, 1, S) -> (1, S, V)
    }
}
