package io.aneforge.mil;

import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Reference evaluations against hand-computed values and against each other. */
class OpSemanticsTest {

    static float[] run(Program p, Map<String, FloatTensor> in) {
        return ReferenceEvaluator.run(p, in).values().iterator().next().data();
    }

    static FloatTensor random(long seed, int... shape) {
        Random r = new Random(seed);
        float[] d = new float[(int) FloatTensor.elementCount(shape)];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextGaussian();
        }
        return new FloatTensor(shape, d);
    }

    @Test
    void blockwiseShiftScaleGoldenCase() {
        // COREML_FORMAT.md section 4: block size 2 on the last axis
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var w = b.blockwiseShiftScale(Constant.integers(DType.INT8, new int[]{4, 8, 10, 13, 24, 5, 6, 9}, 1, 2, 4),
                Constant.fp16(new float[]{4, 8}, 1, 1, 2), Constant.integers(DType.INT8, new int[]{4, 0}, 1, 1, 2));
        assertThat(w.type()).isEqualTo(TensorType.of(DType.FP16, 1, 2, 4));
        assertThat(run(b.build(w), Map.of())).containsExactly(0, 16, 80, 104, 80, 4, 48, 72);
    }

    @Test
    void blockwiseShiftScaleWithBlocksOnEveryAxisMatchesTheDefinition() {
        // data (4, 6, 8), scale/offset (2, 3, 2): blocks of 2 x 2 x 4; int4 data and offsets, exact fp16 scales.
        int[] d = {4, 6, 8};
        int[] s = {2, 3, 2};
        Random r = new Random(7);
        int[] q = new int[4 * 6 * 8];
        for (int i = 0; i < q.length; i++) {
            q[i] = r.nextInt(16) - 8;
        }
        float[] scales = new float[12];
        int[] offsets = new int[12];
        for (int i = 0; i < 12; i++) {
            scales[i] = (i % 4 + 1) * 0.25f;
            offsets[i] = i % 5 - 2;
        }
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var w = b.blockwiseShiftScale(Constant.integers(DType.INT4, q, d), Constant.fp16(scales, s),
                Constant.integers(DType.INT4, offsets, s));
        float[] got = run(b.build(w), Map.of());
        float[] expected = new float[q.length];
        for (int i0 = 0; i0 < 4; i0++) {
            for (int i1 = 0; i1 < 6; i1++) {
                for (int i2 = 0; i2 < 8; i2++) {
                    int i = (i0 * 6 + i1) * 8 + i2;
                    int si = ((i0 / 2) * 3 + i1 / 2) * 2 + i2 / 4;
                    expected[i] = scales[si] * (q[i] - offsets[si]);
                }
            }
        }
        assertThat(got).containsExactly(expected);
    }

    @Test
    void blockwiseShiftScaleOnConvWeightsWithTrailingUnitAxesMatchesTheDefinition() {
        // The ane layout's 1x1 conv weights: data (6, 64, 1, 1), scale/offset (6, 2, 1, 1), blocks of 32 on axis 1.
        int[] d = {6, 64, 1, 1};
        int[] s = {6, 2, 1, 1};
        Random r = new Random(11);
        int[] q = new int[6 * 64];
        for (int i = 0; i < q.length; i++) {
            q[i] = r.nextInt(256) - 128;
        }
        float[] scales = new float[12];
        int[] offsets = new int[12];
        for (int i = 0; i < 12; i++) {
            scales[i] = (float) r.nextGaussian() * 0.01f;
            offsets[i] = r.nextInt(256) - 128;
        }
        MilBuilder b = new MilBuilder(Target.IOS18);
        Constant fp16Scales = Constant.fp16(scales, s);
        Var w = b.blockwiseShiftScale(Constant.integers(DType.INT8, q, d), fp16Scales, Constant.integers(DType.INT8, offsets, s));
        float[] got = run(b.build(w), Map.of());
        float[] expected = new float[q.length];
        for (int i = 0; i < q.length; i++) {
            int si = i / 64 * 2 + i % 64 / 32;
            expected[i] = fp16Scales.floatAt(si) * (q[i] - offsets[si]);
        }
        assertThat(got).containsExactly(expected);
    }

    @Test
    void affineDequantizePerChannel() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var w = b.affineDequantize(Constant.integers(DType.UINT8, new int[]{0, 255, 128, 10}, 2, 2),
                Constant.integers(DType.UINT8, new int[]{128, 10}, 2), Constant.fp32(new float[]{0.5f, 2f}, 2), 0);
        assertThat(run(b.build(w), Map.of())).containsExactly(-64f, 63.5f, 236f, 0f);
    }

    @Test
    void einsumScoresEqualMatmul() {
        // scores (B, Sk, 1, Sq) = sum_c k[b,k,0,c] q[b,c,0,q] -- the ANE layout's attention (CONVERTER.md R4)
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var k = b.input("k", DType.FP32, 1, 5, 1, 3);
        Var q = b.input("q", DType.FP32, 1, 3, 1, 4);
        Var s = b.einsum("bkhc,bchq->bkhq", k, q);
        assertThat(s.shape()).containsExactly(1, 5, 1, 4);
        Var mm = b.matmul(b.reshape(k, 5, 3), b.reshape(q, 3, 4), false, false);
        Map<String, FloatTensor> in = Map.of("k", random(1, 1, 5, 1, 3), "q", random(2, 1, 3, 1, 4));
        Map<String, FloatTensor> out = ReferenceEvaluator.run(b.build(s, mm), in);
        assertThat(out.get(s.name()).data()).containsExactly(out.get(mm.name()).data(), within(1e-6f));

        MilBuilder b3 = new MilBuilder(Target.IOS16);
        Var a3 = b3.input("a", DType.FP32, 2, 1, 3);
        Var c3 = b3.input("c", DType.FP32, 3, 1, 4);
        assertThat(b3.einsum("chw,whr->chr", a3, c3).shape()).containsExactly(2, 1, 4);
    }

    @Test
    void oneByOneConvEqualsLinearInChannelsFirstLayout() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 1, 3, 1, 4); // (B, C, 1, S)
        float[] w = random(3, 2, 3).data();
        float[] bias = {0.5f, -1f};
        Var conv = b.conv(x, b.constant(Constant.fp32(w, 2, 3, 1, 1)), Constant.fp32(bias, 2));
        Var seq = b.transpose(b.squeeze(x, 2), 0, 2, 1); // (B, S, C)
        Var lin = b.transpose(b.linear(seq, Constant.fp32(w, 2, 3), Constant.fp32(bias, 2)), 0, 2, 1);
        Map<String, FloatTensor> out = ReferenceEvaluator.run(b.build(b.squeeze(conv, 2), lin), Map.of("x", random(4, 1, 3, 1, 4)));
        assertThat(out.values().stream().toList().get(0).data()).containsExactly(out.values().stream().toList().get(1).data(), within(1e-6f));
    }

    @Test
    void convSamePaddingCountsValidTaps() {
        MilBuilder b = new MilBuilder(Target.IOS15);
        Var x = b.input("x", DType.FP32, 1, 1, 3, 3);
        float[] ones = new float[9];
        java.util.Arrays.fill(ones, 1f);
        Var y = b.op("conv").arg("x", x).arg("weight", b.constant(Constant.fp32(ones, 1, 1, 3, 3))).arg("pad_type", "same").build();
        assertThat(y.shape()).containsExactly(1, 1, 3, 3);
        assertThat(run(b.build(y), Map.of("x", new FloatTensor(new int[]{1, 1, 3, 3}, ones)))).containsExactly(4, 6, 4, 6, 9, 6, 4, 6, 4);
    }

    @Test
    void softmaxLayerNormAndGelu() {
        MilBuilder b = new MilBuilder(Target.IOS15);
        Var x = b.input("x", DType.FP32, 2, 8, 1, 3);
        Var sm = b.softmax(x, 1);
        Var ln = b.op("layer_norm").arg("x", x).arg("axes", new int[]{1}).build(); // gamma 1, beta 0, eps 1e-5 by default
        Map<String, FloatTensor> out = ReferenceEvaluator.run(b.build(sm, ln), Map.of("x", random(5, 2, 8, 1, 3)));
        float[] s = out.get(sm.name()).data();
        float[] l = out.get(ln.name()).data();
        for (int n = 0; n < 2; n++) {
            for (int q = 0; q < 3; q++) {
                double sum = 0, mean = 0, sq = 0;
                for (int c = 0; c < 8; c++) {
                    sum += s[n * 24 + c * 3 + q];
                    mean += l[n * 24 + c * 3 + q] / 8.0;
                    sq += l[n * 24 + c * 3 + q] * l[n * 24 + c * 3 + q] / 8.0;
                }
                assertThat(sum).isCloseTo(1.0, within(1e-6));
                assertThat(mean).isCloseTo(0.0, within(1e-6));
                assertThat(sq).isCloseTo(1.0, within(1e-3));
            }
        }
        MilBuilder g = new MilBuilder(Target.IOS15);
        Var gx = g.input("x", DType.FP32, 3);
        Var exact = g.gelu(gx, "EXACT");
        Var tanh = g.gelu(gx, "TANH_APPROXIMATION");
        Map<String, FloatTensor> go = ReferenceEvaluator.run(g.build(exact, tanh), Map.of("x", new FloatTensor(new int[]{3}, new float[]{1f, -1f, 0f})));
        assertThat(go.get(exact.name()).data()).containsExactly(new float[]{0.8413447f, -0.1586553f, 0f}, within(2e-7f));
        assertThat(go.get(tanh.name()).data()).containsExactly(new float[]{0.8411920f, -0.1588080f, 0f}, within(2e-7f));
        assertThat(ElementwiseOps.erf(0.5)).isCloseTo(0.5204998778, within(2e-7));
    }

    @Test
    void sliceGatherSplitConcatBandPartReshape() {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var x = b.input("x", DType.FP32, 2, 6);
        Var sl = b.op("slice_by_index").arg("x", x).arg("begin", new int[]{0, 1}).arg("end", new int[]{1, 6})
                .arg("stride", new int[]{1, 2}).arg("squeeze_mask", new boolean[]{true, false}).build();
        Var cls = b.sliceByIndex(x, new int[]{0, 0}, new int[]{2, 1});
        Var table = b.constant(Constant.fp32(new float[]{0, 1, 10, 11, 20, 21}, 3, 2));
        Var ids = b.input("ids", DType.INT32, 1, 2);
        Var emb = b.gather(table, ids, 0);
        List<Var> parts = b.splitSizes(x, 1, 2, 4);
        Var back = b.concat(1, List.of(parts.get(0), parts.get(1)));
        Var tri = b.bandPart(b.reshape(b.sliceByIndex(x, new int[]{0, 0}, new int[]{2, 4}), 0, 2, -1), -1, 0);
        float[] xs = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        Map<String, FloatTensor> out = ReferenceEvaluator.run(b.build(sl, cls, emb, back, tri), Map.of("x", new FloatTensor(new int[]{2, 6}, xs),
                "ids", new FloatTensor(new int[]{1, 2}, new float[]{2, 0})));
        assertThat(out.get(sl.name()).data()).containsExactly(1, 3, 5);
        assertThat(out.get(cls.name()).data()).containsExactly(0, 6);
        assertThat(emb.shape()).containsExactly(1, 2, 2);
        assertThat(out.get(emb.name()).data()).containsExactly(20, 21, 0, 1);
        assertThat(out.get(back.name()).data()).containsExactly(xs);
        assertThat(tri.shape()).containsExactly(2, 2, 2);
        assertThat(out.get(tri.name()).data()).containsExactly(0, 0, 2, 3, 6, 0, 8, 9);
    }
}
