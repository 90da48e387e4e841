package io.aneforge.runtime.reference;

import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExecutionPlanTest {

    private static final int OUT = 16;
    private static final int IN = 64;
    private static final int BLOCK = 32;

    /** int8 block-32 weight (OUT, IN) with per-block scales, and the floats it dequantizes to. */
    private static Program quantizedLinear(float[] expectedWeight) {
        int[] q = new int[OUT * IN];
        float[] scales = new float[OUT * IN / BLOCK];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = 0.01f * (i + 1);
        }
        for (int i = 0; i < q.length; i++) {
            q[i] = (i * 37) % 255 - 127;
            expectedWeight[i] = scales[i / BLOCK] * q[i];
        }
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var x = b.input("x", DType.FP32, 1, IN);
        Var w = b.blockwiseShiftScale(Constant.integers(DType.INT8, q, OUT, IN), Constant.fp32(scales, OUT, IN / BLOCK), null);
        return b.build(b.linear(x, w, Constant.fp32(new float[OUT], OUT)));
    }

    @Test
    void aQuantizedWeightIsHeldOnlyAsItsDequantizedFloats() {
        float[] weight = new float[OUT * IN];
        Program program = quantizedLinear(weight);
        // the scalar plan reads the dequantized weight and the zero bias from the frame; no float copy of the
        // int8 data or of the scales
        ExecutionPlan scalar = ExecutionPlan.compile(program, false, false);
        assertEquals(4L * (OUT * IN + OUT), scalar.loadTimeBytes());
        // the fast linear packs the weight at load and reads only that copy: the frame keeps the bias alone
        ExecutionPlan fast = ExecutionPlan.compile(program, true, false);
        assertEquals(4L * OUT, fast.loadTimeBytes());

        float[] x = new float[IN];
        x[3] = 1;
        x[40] = -2;
        float[] expected = new float[OUT];
        for (int o = 0; o < OUT; o++) {
            expected[o] = weight[o * IN + 3] - 2 * weight[o * IN + 40];
        }
        for (ExecutionPlan plan : new ExecutionPlan[]{scalar, fast}) {
            try (ReferenceModel m = new ReferenceModel(plan, 1)) {
                FloatTensor y = m.predict(Map.of("x", new FloatTensor(new int[]{1, IN}, x))).values().iterator().next();
                assertArrayEquals(expected, y.data(), 1e-6f);
            }
        }
    }

    /**
     * A weight two ops read, one packing it at load (linear) and one reading it from the frame
     * (matmul): the frame keeps it, and both products are right.
     */
    @Test
    void aWeightAnotherStepReadsFromTheFrameIsKept() {
        float[] w = new float[OUT * IN];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 7) - 3;
        }
        MilBuilder b = new MilBuilder(Target.IOS18);
        Var x = b.input("x", DType.FP32, 1, IN);
        Var weight = b.constant("w", Constant.fp32(w, OUT, IN));
        Var viaLinear = b.linear(x, weight, null);
        Var viaMatmul = b.matmul(x, weight, false, true);
        Program program = b.build(b.add(viaLinear, viaMatmul));
        ExecutionPlan fast = ExecutionPlan.compile(program, true, false);
        assertTrue(fast.loadTimeBytes() >= 4L * OUT * IN, "the weight stays in the frame: " + fast.loadTimeBytes());
        MilBuilder only = new MilBuilder(Target.IOS18);
        Program linearOnly = only.build(only.linear(only.input("x", DType.FP32, 1, IN), only.constant("w", Constant.fp32(w, OUT, IN)), null));
        long packedOnly = ExecutionPlan.compile(linearOnly, true, false).loadTimeBytes();
        assertTrue(packedOnly < 4L * OUT * IN, "without the matmul only the packed copy is held: " + packedOnly);
        float[] in = new float[IN];
        in[5] = 1;
        try (ReferenceModel m = new ReferenceModel(fast, 1)) {
            FloatTensor y = m.predict(Map.of("x", new FloatTensor(new int[]{1, IN}, in))).values().iterator().next();
            float[] expected = new float[OUT];
            for (int o = 0; o < OUT; o++) {
                expected[o] = 2 * w[o * IN + 5];
            }
            assertArrayEquals(expected, y.data(), 0f);
        }
    }
}
