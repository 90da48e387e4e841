package io.aneforge.runtime.reference;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.tensor.FloatTensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Small transformer-shaped programs with random weights, in both layouts, for runtime tests. */
final class TestPrograms {

    static final int SEQ = 8;
    static final int HIDDEN = 32;
    static final int HEADS = 4;
    static final int FFN = 64;
    static final int VOCAB = 50;

    private final SplittableRandom rnd;
    private final MilBuilder b;
    private final DType dtype;

    private TestPrograms(long seed, Target target, DType dtype) {
        this.rnd = new SplittableRandom(seed);
        this.b = new MilBuilder(target);
        this.dtype = dtype;
    }

    static float[] gaussian(SplittableRandom r, int n, double scale) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = (float) (r.nextGaussian() * scale);
        }
        return d;
    }

    static FloatTensor random(long seed, int... shape) {
        int n = Math.toIntExact(FloatTensor.elementCount(shape));
        return new FloatTensor(shape, gaussian(new SplittableRandom(seed), n, 1));
    }

    private Constant weight(double scale, int... shape) {
        int n = Math.toIntExact(FloatTensor.elementCount(shape));
        return Constant.floats(dtype, gaussian(rnd, n, scale), shape);
    }

    private Constant ones(int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = (float) (1 + 0.1 * rnd.nextGaussian());
        }
        return Constant.floats(dtype, d, n);
    }

    /** Inputs: int32 ids [1, SEQ] and a float mask [1, SEQ] (1 = attend). */
    static Map<String, FloatTensor> inputs(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] ids = new float[SEQ];
        float[] mask = new float[SEQ];
        for (int i = 0; i < SEQ; i++) {
            ids[i] = r.nextInt(VOCAB);
            mask[i] = i < SEQ - 2 ? 1 : 0;
        }
        return Map.of("input_ids", new FloatTensor(new int[]{1, SEQ}, ids), "attention_mask", new FloatTensor(new int[]{1, SEQ}, mask));
    }

    /** (B, S, C) layout: linear, reshape/transpose heads, matmul attention, softmax, layer_norm, gelu. */
    static Program standard(long seed, int layers, DType dtype, String geluMode) {
        TestPrograms t = new TestPrograms(seed, Target.IOS16, dtype);
        MilBuilder b = t.b;
        Var ids = b.input("input_ids", DType.INT32, 1, SEQ);
        Var mask = b.input("attention_mask", dtype, 1, SEQ);
        Var table = b.constant("word_embeddings", t.weight(1, VOCAB, HIDDEN));
        Var x = b.add(b.gather(table, ids, 0), t.weight(0.5, SEQ, HIDDEN)); // [1, S, H]
        x = b.layerNorm(x, new int[]{-1}, t.ones(HIDDEN), t.weight(0.1, HIDDEN), 1e-12f);
        // additive mask [1, 1, 1, S]: (mask - 1) * 10000
        Var bias = b.mul(b.sub(b.reshape(mask, 1, 1, 1, SEQ), 1f), 10000f);
        int dh = HIDDEN / HEADS;
        for (int l = 0; l < layers; l++) {
            Var q = heads(b, b.linear(x, t.weight(0.2, HIDDEN, HIDDEN), t.weight(0.1, HIDDEN)), dh);
            Var k = heads(b, b.linear(x, t.weight(0.2, HIDDEN, HIDDEN), t.weight(0.1, HIDDEN)), dh);
            Var v = heads(b, b.linear(x, t.weight(0.2, HIDDEN, HIDDEN), t.weight(0.1, HIDDEN)), dh);
            Var scores = b.add(b.mul(b.matmul(q, k, false, true), (float) (1 / Math.sqrt(dh))), bias);
            Var probs = b.softmax(scores, -1);
            Var ctx = b.reshape(b.transpose(b.matmul(probs, v, false, false), 0, 2, 1, 3), 1, SEQ, HIDDEN);
            Var attn = b.linear(ctx, t.weight(0.2, HIDDEN, HIDDEN), t.weight(0.1, HIDDEN));
            x = b.layerNorm(b.add(attn, x), new int[]{-1}, t.ones(HIDDEN), t.weight(0.1, HIDDEN), 1e-12f);
            Var h = b.gelu(b.linear(x, t.weight(0.2, FFN, HIDDEN), t.weight(0.1, FFN)), geluMode);
            Var o = b.linear(h, t.weight(0.2, HIDDEN, FFN), t.weight(0.1, HIDDEN));
            x = b.layerNorm(b.add(o, x), new int[]{-1}, t.ones(HIDDEN), t.weight(0.1, HIDDEN), 1e-12f);
        }
        Var pooled = b.realDiv(b.reduceMean(x, new int[]{1}, false), 2f);
        return b.build(x, pooled);
    }

    private static Var heads(MilBuilder b, Var x, int dh) {
        return b.transpose(b.reshape(x, 1, SEQ, HEADS, dh), 0, 2, 1, 3); // [1, heads, S, dh]
    }

    /** (B, C, 1, S) layout: 1×1 convs, per-head einsum attention (softmax on axis 1), layer_norm on axis 1. */
    static Program ane(long seed, int layers, DType dtype) {
        TestPrograms t = new TestPrograms(seed, Target.IOS16, dtype);
        MilBuilder b = t.b;
        Var ids = b.input("input_ids", DType.INT32, 1, SEQ);
        Var mask = b.input("attention_mask", dtype, 1, SEQ);
        Var table = b.constant("word_embeddings", t.weight(1, VOCAB, HIDDEN));
        Var emb = b.add(b.gather(table, ids, 0), t.weight(0.5, SEQ, HIDDEN)); // [1, S, H]
        Var x = b.expandDims(b.transpose(emb, 0, 2, 1), 2); // [1, H, 1, S]
        x = b.layerNorm(x, new int[]{1}, t.ones(HIDDEN), t.weight(0.1, HIDDEN), 1e-5f);
        Var bias = b.mul(b.sub(b.reshape(mask, 1, SEQ, 1, 1), 1f), 10000f); // over keys (axis 1 of the scores)
        int dh = HIDDEN / HEADS;
        for (int l = 0; l < layers; l++) {
            Var q = b.conv(x, t.weight(0.2, HIDDEN, HIDDEN, 1, 1), t.weight(0.1, HIDDEN));
            Var k = b.conv(x, t.weight(0.2, HIDDEN, HIDDEN, 1, 1), t.weight(0.1, HIDDEN));
            Var v = b.conv(x, t.weight(0.2, HIDDEN, HIDDEN, 1, 1), t.weight(0.1, HIDDEN));
            List<Var> qs = b.split(q, 1, HEADS);
            List<Var> ks = b.split(k, 1, HEADS);
            List<Var> vs = b.split(v, 1, HEADS);
            List<Var> ctx = new ArrayList<>();
            for (int h = 0; h < HEADS; h++) {
                Var kh = b.transpose(ks.get(h), 0, 3, 2, 1); // [1, S, 1, dh]
                Var s = b.einsum("bkhc,bchq->bkhq", kh, qs.get(h)); // [1, Sk, 1, Sq]
                Var p = b.softmax(b.add(b.mul(s, (float) (1 / Math.sqrt(dh))), bias), 1);
                ctx.add(b.einsum("bchk,bkhq->bchq", vs.get(h), p)); // [1, dh, 1, Sq]
            }
            Var attn = b.conv(b.concat(1, ctx), t.weight(0.2, HIDDEN, HIDDEN, 1, 1), t.weight(0.1, HIDDEN));
            x = b.layerNorm(b.add(attn, x), new int[]{1}, t.ones(HIDDEN), t.weight(0.1, HIDDEN), 1e-5f);
            Var hdn = b.gelu(b.conv(x, t.weight(0.2, FFN, HIDDEN, 1, 1), t.weight(0.1, FFN)), "EXACT");
            Var o = b.conv(hdn, t.weight(0.2, HIDDEN, FFN, 1, 1), t.weight(0.1, HIDDEN));
            x = b.layerNorm(b.add(o, x), new int[]{1}, t.ones(HIDDEN), t.weight(0.1, HIDDEN), 1e-5f);
        }
        // a rank-3 einsum (chw,whr->chr) reading the final states
        Var x3 = b.squeeze(x, 0); // [H, 1, S]
        Var proj = b.constant("proj", t.weight(0.2, SEQ, 1, 4));
        Var y3 = b.einsum("chw,whr->chr", x3, proj); // [H, 1, 4]
        return b.build(x, y3);
    }
}
