package io.aneforge.graph;

import io.aneforge.mil.Constant;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Var;
import io.aneforge.tensor.FloatTensor;

/** The Hub layout: activations {@code (1, S, C)}, {@code linear} projections, batched {@code matmul} attention over {@code (1, H, S, d)}. */
public final class StandardLayers extends BaseLayers {

    public StandardLayers(MilBuilder b, WeightStore weights, int seqLen) {
        super(b, weights, seqLen);
    }

    @Override
    public Var fromHub(Var bsc) {
        return bsc;
    }

    @Override
    public Var toHub(Var x) {
        return x;
    }

    @Override
    public Var project(Var x, String name, FloatTensor weight, FloatTensor bias) {
        Var w = weights.weight(name + ".weight", weight, weight.shape());
        Var bi = weights.vector(name + ".bias", bias);
        return b.linear(weights.activation(x, name + ".weight"), w, bi);
    }

    @Override
    public Var layerNorm(Var x, String name, FloatTensor gamma, FloatTensor beta, double epsilon) {
        return b.layerNorm(x, new int[] {-1}, weights.vector(name + ".weight", gamma), weights.vector(name + ".bias", beta),
                epsilon(epsilon));
    }

    @Override
    public Var attention(Var q, Var k, Var v, int heads, float scale, Var mask) {
        int c = q.shape()[2];
        int d = c / heads;
        int s = seqLen;
        Var qh = b.transpose(b.reshape(scaled(q, scale), 1, s, heads, d), 0, 2, 1, 3);
        Var kh = b.transpose(b.reshape(k, 1, s, heads, d), 0, 2, 1, 3);
        Var vh = b.transpose(b.reshape(v, 1, s, heads, d), 0, 2, 1, 3);
        Var scores = b.add(b.matmul(qh, kh, false, true), mask); // (1, H, Sq, Sk)
        Var w = b.softmax(scores, -1);
        Var ctx = b.matmul(w, vh, false, false); // (1, H, Sq, d)
        return b.reshape(b.transpose(ctx, 0, 2, 1, 3), 1, s, c);
    }

    @Override
    public Var paddingMask(Var attentionMask) {
        return b.reshape(additive(maskInCompute(attentionMask)), 1, 1, 1, seqLen); // (1, 1, 1, Sk)
    }

    @Override
    public Var relativeBiasMask(Var attentionMask, Var table, int[] buckets, int heads) {
        // the key mask spread over the queries by an outer product with ones, as the causal mask is: (Sq, Sk), so a
        // sequence prefix (SequencePrefix) follows both axes and cuts the bias, computed from constants, with them
        Var keys = b.matmul(ones(seqLen, 1), b.reshape(maskInCompute(attentionMask), 1, seqLen), false, false);
        Var indices = b.constant(Constant.int32(buckets, 1, seqLen, seqLen));
        Var bias = b.transpose(b.gather(table, indices, 0), 0, 3, 1, 2); // (1, Sq, Sk, H) -> (1, H, Sq, Sk)
        return b.add(bias, additive(keys)); // (1, H, Sq, Sk)
    }

    @Override
    public Var causalMask(Var attentionMask) {
        // [q, k] = m[k], then keep k <= q (band_part keeps j - i <= upper = 0)
        Var keys = b.matmul(ones(seqLen, 1), b.reshape(maskInCompute(attentionMask), 1, seqLen), false, false);
        Var allowed = b.bandPart(keys, -1, 0);
        return b.reshape(additive(allowed), 1, 1, seqLen, seqLen); // (1, 1, Sq, Sk)
    }

    @Override
    public Var firstToken(Var x) {
        return b.sliceByIndex(x, new int[] {0, 0, 0}, new int[] {1, 1, x.shape()[2]});
    }

    @Override
    public Var pooler(Var x, String name, FloatTensor weight, FloatTensor bias) {
        return b.reshape(b.tanh(project(firstToken(x), name, weight, bias)), 1, x.shape()[2]);
    }

    @Override
    public Var embeddingTable(String name, FloatTensor table) {
        return weights.weight(name, table, table.shape());
    }

    @Override
    public Var gatherTokens(Var table, Var inputIds) {
        return b.gather(table, inputIds, 0);
    }

    @Override
    public Var tiedHead(Var x, Var table) {
        return b.matmul(x, table, false, true);
    }

    @Override
    public Var tiedHead(Var x, Var table, String biasName, FloatTensor bias) {
        return b.linear(weights.activation(x, table.name()), table, weights.vector(biasName, bias)); // the table [V, C] is a linear weight as it is
    }
}
