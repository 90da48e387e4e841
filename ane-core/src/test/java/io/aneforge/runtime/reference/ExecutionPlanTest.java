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
        ExecutionPlan plan = ExecutionPlan.compile(program, true, false);
        // the dequantized weight and the zero bias; no float copy of the int8 data or of the scales
        assertEquals(4L * (OUT * IN + OUT), plan.loadTimeBytes());

        float[] x = new float[IN];
        x[3] = 1;
        x[40] = -2;
        try (ReferenceModel m = new ReferenceModel(plan, 1)) {
            FloatTensor y = m.predict(Map.of("x", new FloatTensor(new int[]{1, IN}, x))).values().iterator().next();
            float[] expected = new float[OUT];
            for (int o = 0; o < OUT; o++) {
                expected[o] = weight[o * IN + 3] - 2 * weight[o * IN + 40];
            }
            assertArrayEquals(expected, y.data(), 1e-6f);
        }
    }
}
