package io.aneforge.bench;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A BERT-encoder-shaped MIL program with random weights (all-MiniLM-L6-v2 sizes by default:
 * 6 layers, hidden 384, 12 heads, intermediate 1536, vocabulary 30522), for timing the
 * reference runtime where the op mix and tensor sizes matter but the weights do not.
 * Inputs {@code input_ids} (int32) and {@code attention_mask} (fp32), both {@code [1, seq]};
 * output the last hidden state.
 */
public final class SyntheticEncoder {

    public enum Layout { STANDARD, ANE }

    private final SplittableRandom rnd = new SplittableRandom(42);
    private final int seq;
    private final int hidden;
    private final int heads;
    private final int ffn;
    private final int vocab;

    public SyntheticEncoder(int seq, int hidden, int heads, int ffn, int vocab) {
        this.seq = seq;
        this.hidden = hidden;
        this.heads = heads;
        this.ffn = ffn;
        this.vocab = vocab;
    }

    public static SyntheticEncoder miniLm(int seq) {
        return new SyntheticEncoder(seq, 384, 12, 1536, 30522);
    }

    private Constant w(double scale, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
            data[i] = (float) (rnd.nextGaussian() * scale);
        }
        return Constant.fp32(data, shape);
    }

    private Constant ones(int n) {
        float[] d = new float[n];
        java.util.Arrays.fill(d, 1f);
        return Constant.fp32(d, n);
    }

    public Program build(int layers, Layout layout) {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var ids = b.input("input_ids", DType.INT32, 1, seq);
        Var mask = b.input("attention_mask", DType.FP32, 1, seq);
        Var table = b.constant("word_embeddings", w(0.05, vocab, hidden));
        Var emb = b.add(b.gather(table, ids, 0), w(0.05, seq, hidden)); // [1, S, H]
        double ws = 1 / Math.sqrt(hidden);
        int dh = hidden / heads;
        float scale = (float) (1 / Math.sqrt(dh));
        if (layout == Layout.STANDARD) {
            Var x = b.layerNorm(emb, new int[]{-1}, ones(hidden), w(0.02, hidden), 1e-12f);
            Var bias = b.mul(b.sub(b.reshape(mask, 1, 1, 1, seq), 1f), 10000f);
            for (int l = 0; l < layers; l++) {
                Var q = splitHeads(b, b.linear(x, w(ws, hidden, hidden), w(0.02, hidden)), dh);
                Var k = splitHeads(b, b.linear(x, w(ws, hidden, hidden), w(0.02, hidden)), dh);
                Var v = splitHeads(b, b.linear(x, w(ws, hidden, hidden), w(0.02, hidden)), dh);
                Var p = b.softmax(b.add(b.mul(b.matmul(q, k, false, true), scale), bias), -1);
                Var ctx = b.reshape(b.transpose(b.matmul(p, v, false, false), 0, 2, 1, 3), 1, seq, hidden);
                Var attn = b.linear(ctx, w(ws, hidden, hidden), w(0.02, hidden));
                x = b.layerNorm(b.add(attn, x), new int[]{-1}, ones(hidden), w(0.02, hidden), 1e-12f);
                Var h = b.gelu(b.linear(x, w(ws, ffn, hidden), w(0.02, ffn)), "EXACT");
                Var o = b.linear(h, w(1 / Math.sqrt(ffn), hidden, ffn), w(0.02, hidden));
                x = b.layerNorm(b.add(o, x), new int[]{-1}, ones(hidden), w(0.02, hidden), 1e-12f);
            }
            return b.build(x);
        }
        Var x = b.expandDims(b.transpose(emb, 0, 2, 1), 2); // [1, H, 1, S]
        x = b.layerNorm(x, new int[]{1}, ones(hidden), w(0.02, hidden), 1e-12f);
        Var bias = b.mul(b.sub(b.reshape(mask, 1, seq, 1, 1), 1f), 10000f);
        for (int l = 0; l < layers; l++) {
            List<Var> qs = b.split(b.conv(x, w(ws, hidden, hidden, 1, 1), w(0.02, hidden)), 1, heads);
            List<Var> ks = b.split(b.conv(x, w(ws, hidden, hidden, 1, 1), w(0.02, hidden)), 1, heads);
            List<Var> vs = b.split(b.conv(x, w(ws, hidden, hidden, 1, 1), w(0.02, hidden)), 1, heads);
            List<Var> ctx = new ArrayList<>();
            for (int h = 0; h < heads; h++) {
                Var kh = b.transpose(ks.get(h), 0, 3, 2, 1);
                Var s = b.einsum("bkhc,bchq->bkhq", kh, qs.get(h));
                Var p = b.softmax(b.add(b.mul(s, scale), bias), 1);
                ctx.add(b.einsum("bchk,bkhq->bchq", vs.get(h), p));
            }
            Var attn = b.conv(b.concat(1, ctx), w(ws, hidden, hidden, 1, 1), w(0.02, hidden));
            x = b.layerNorm(b.add(attn, x), new int[]{1}, ones(hidden), w(0.02, hidden), 1e-12f);
            Var hd = b.gelu(b.conv(x, w(ws, ffn, hidden, 1, 1), w(0.02, ffn)), "EXACT");
            Var o = b.conv(hd, w(1 / Math.sqrt(ffn), hidden, ffn, 1, 1), w(0.02, hidden));
            x = b.layerNorm(b.add(o, x), new int[]{1}, ones(hidden), w(0.02, hidden), 1e-12f);
        }
        return b.build(x);
    }

    private Var splitHeads(MilBuilder b, Var x, int dh) {
        return b.transpose(b.reshape(x, 1, seq, heads, dh), 0, 2, 1, 3);
    }
}
