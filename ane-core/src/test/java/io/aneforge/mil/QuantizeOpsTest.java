package io.aneforge.mil;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.convert.ProgramEvaluator;
import io.aneforge.tensor.FloatTensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code quantize} and {@code dequantize} (iOS 17) against coremltools' definition ({@code quantize_by_scale_and_zp}:
 * {@code clip(around(input / scale) + zero_point)}, {@code dequantize_by_scale_and_zp}: {@code scale * (q - zero_point)}).
 */
class QuantizeOpsTest {

    static float[] run(Program p, Map<String, FloatTensor> in) {
        return ReferenceEvaluator.run(p, in).values().iterator().next().data();
    }

    static Map<String, FloatTensor> x(float... values) {
        return Map.of("x", new FloatTensor(new int[] {values.length}, values));
    }

    static Constant scalar(float scale) {
        return Constant.fp32(new float[] {scale});
    }

    @Test
    void roundsHalfToEvenAsNumPysAround() {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var q = b.quantize(b.input("x", DType.FP32, 8), scalar(1), null, null, DType.INT8);
        assertThat(q.type()).isEqualTo(TensorType.of(DType.INT8, 8));
        assertThat(run(b.build(q), x(0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49f, 2.51f)))
                .containsExactly(0, 2, 2, 0, -2, -2, 0, 3);
    }

    @Test
    void clampsToTheOutputTypeAfterAddingTheZeroPoint() {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var q = b.quantize(b.input("x", DType.FP32, 5), scalar(0.5f), null, null, DType.INT8);
        // -128 is reachable (coremltools' symmetric scale only avoids it), 127 is the top
        assertThat(run(b.build(q), x(-1000, -64, -64.5f, 63.5f, 1000))).containsExactly(-128, -128, -128, 127, 127);

        MilBuilder u = new MilBuilder(Target.IOS17);
        Var qu = u.quantize(u.input("x", DType.FP32, 5), scalar(2), Constant.integers(DType.UINT8, new int[] {100}),
                null, DType.UINT8);
        // round(x / 2) + 100, clipped to 0..255: -300 -> -50 -> 0; 3 -> 1.5 -> 2 -> 102; 400 -> 300 -> 255
        assertThat(run(u.build(qu), x(-300, -200, 3, 5, 400))).containsExactly(0, 0, 102, 102, 255);
    }

    @Test
    void fp16InputsDivideInFp16BeforeRounding() {
        // 0.25 / fp16(0.1) = 2.50061 in float, 2.5 in fp16 (NumPy's fp16 quotient): around gives 2, not 3
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var q = b.quantize(b.input("x", DType.FP16, 2), Constant.fp16(new float[] {0.1f}), null, null, DType.INT8);
        assertThat(run(b.build(q), x(0.25f, -0.25f))).containsExactly(2, -2);
        MilBuilder f = new MilBuilder(Target.IOS17);
        Var q32 = f.quantize(f.input("x", DType.FP32, 2), scalar(Half.round(0.1f)), null, null, DType.INT8);
        assertThat(run(f.build(q32), x(0.25f, -0.25f))).containsExactly(3, -3);
    }

    @Test
    void perAxisScalesAndZeroPointsFollowTheAxis() {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var in = b.input("x", DType.FP32, 2, 3);
        Constant scales = Constant.fp32(new float[] {1, 2, 4}, 3);
        Constant zps = Constant.integers(DType.INT8, new int[] {0, 10, -10}, 3);
        Var q = b.quantize(in, scales, zps, 1, DType.INT8);
        Var d = b.dequantize(q, scales, zps, -1);
        Program p = b.build(q, d);
        Map<String, FloatTensor> out = ReferenceEvaluator.run(p, Map.of("x", new FloatTensor(new int[] {2, 3},
                new float[] {3, 3, 3, -7, 7, 500})));
        // column j: round(x / s_j) + z_j; then s_j * (q - z_j)
        assertThat(out.get(q.name()).data()).containsExactly(3, 12, -9, -7, 14, 115);
        assertThat(out.get(d.name()).data()).containsExactly(3, 4, 4, -7, 8, 500);

        MilBuilder rows = new MilBuilder(Target.IOS17);
        Var q0 = rows.quantize(rows.input("x", DType.FP32, 2, 3), Constant.fp32(new float[] {1, 10}, 2), null, 0, DType.INT8);
        assertThat(run(rows.build(q0), Map.of("x", new FloatTensor(new int[] {2, 3}, new float[] {1, 2, 3, 10, 20, 30}))))
                .containsExactly(1, 2, 3, 1, 2, 3);
    }

    @Test
    void dequantizeIsScaleTimesInputMinusZeroPointInTheScalesType() {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var q = b.quantize(b.input("x", DType.FP32, 4), scalar(1), Constant.integers(DType.UINT8, new int[] {128}), null,
                DType.UINT8);
        Var d = b.dequantize(q, Constant.fp16(new float[] {0.5f}), Constant.integers(DType.UINT8, new int[] {128}), null);
        assertThat(d.type()).isEqualTo(TensorType.of(DType.FP16, 4));
        // q = x + 128 clipped to 0..255, then 0.5 * (q - 128)
        assertThat(run(b.build(d), x(-200, -3, 4, 200))).containsExactly(-64, -1.5f, 2, 63.5f);
    }

    @Test
    void theReferenceRuntimeAgreesWithTheDefinition() {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var in = b.input("x", DType.FP16, 1, 4, 8);
        Constant scale = Constant.fp16(new float[] {Half.round(3f / 127)});
        Var dq = b.dequantize(b.quantize(in, scale, null, null, DType.INT8), scale, null, null);
        float[] w = new float[6 * 8];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 11 - 5) * 0.125f;
        }
        Var y = b.linear(dq, b.constant(Constant.fp16(w, 6, 8)), null);
        Program p = b.build(y);
        float[] xs = new float[32];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = Half.round((i * 37 % 29 - 14) * 0.21f);
        }
        Map<String, FloatTensor> in1 = Map.of("x", new FloatTensor(new int[] {1, 4, 8}, xs));
        float[] fast = ProgramEvaluator.runtime().run(p, in1).get(y.name()).data();
        float[] scalar = run(p, in1);
        for (int i = 0; i < fast.length; i++) {
            assertThat(fast[i]).as("output %d", i).isCloseTo(scalar[i], org.assertj.core.data.Offset.offset(2e-3f));
        }
    }

    @Test
    void badParametersAreRefusedWithTheRule() {
        MilBuilder b = new MilBuilder(Target.IOS17);
        Var in = b.input("x", DType.FP32, 2, 3);
        assertThatThrownBy(() -> b.quantize(in, Constant.fp32(new float[] {1, 2, 3}, 3), null, null, DType.INT8))
                .hasMessageContaining("argument 'axis': is required when scale is a vector");
        assertThatThrownBy(() -> b.quantize(in, scalar(1), null, 1, DType.INT8))
                .hasMessageContaining("argument 'axis': must be left out when scale is a scalar");
        assertThatThrownBy(() -> b.quantize(in, Constant.fp32(new float[] {1, 2}, 2), null, 1, DType.INT8))
                .hasMessageContaining("argument 'scale': has 2 values but axis 1 of input [2, 3] has size 3");
        assertThatThrownBy(() -> b.quantize(in, scalar(1), Constant.integers(DType.UINT8, new int[] {0}), null, DType.INT8))
                .hasMessageContaining("argument 'zero_point': dtype uint8 must equal output_dtype int8");
        assertThatThrownBy(() -> b.quantize(in, scalar(0), null, null, DType.INT8))
                .hasMessageContaining("argument 'scale': is 0");
        assertThatThrownBy(() -> b.quantize(in, scalar(1), null, null, DType.INT32))
                .hasMessageContaining("'int32' is not a quantized type (expected int8 or uint8)");
        assertThatThrownBy(() -> b.quantize(in, Constant.fp16(new float[] {1}), null, null, DType.INT8))
                .hasMessageContaining("argument 'scale'").hasMessageContaining("must equal the dtype of 'input'");
        MilBuilder ios16 = new MilBuilder(Target.IOS16);
        Var in16 = ios16.input("x", DType.FP32, 2);
        assertThatThrownBy(() -> ios16.quantize(in16, scalar(1), null, null, DType.INT8))
                .hasMessage("op 'quantize_0' (quantize): needs iOS 17 / macOS 14 (CoreML7) but the program targets "
                        + "iOS 16 / macOS 13 (CoreML6); raise the deployment target");
    }
}
