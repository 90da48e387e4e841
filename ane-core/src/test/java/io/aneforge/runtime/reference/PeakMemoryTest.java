package io.aneforge.runtime.reference;

import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Peak bytes of live intermediates on a program where the answer is known exactly. */
class PeakMemoryTest {

    /**
     * x[100] (input, not counted)
     *   a = relu(x)          [100]    live a                = 400
     *   r = reshape(a)       [10, 10] shares a's array      = 400, a dies
     *   m = mul(r, 2)        [10, 10] live r + m            = 800, r dies -> 400
     *   c = concat(m, m)     [20, 10] live m + c            = 1200, m dies -> 800
     *   d = reduce_mean(c)   [20]     live c + d            = 880, c dies -> 80
     * Peak 1200 bytes; without releasing dead values it would be 400 + 400 + 800 + 80 = 1680.
     */
    static Program chain() {
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 100);
        Var a = b.op("relu").arg("x", x).build();
        Var r = b.reshape(a, 10, 10);
        Var m = b.mul(r, 2f);
        Var c = b.concat(0, List.of(m, m));
        Var d = b.reduceMean(c, new int[]{1}, false);
        return b.build(d);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void peakIsTheLargestSetOfLiveIntermediates(boolean fastKernels) {
        for (boolean fp16 : new boolean[]{false, true}) {
            ReferenceModel model = ReferenceRuntime.load(chain(), new RuntimeOptions("cpuOnly", fp16, 1), fastKernels);
            assertThat(model.peakIntermediateBytes()).isZero();
            float[] x = new float[100];
            for (int i = 0; i < x.length; i++) {
                x[i] = i - 50;
            }
            Map<String, FloatTensor> out = model.predict(Map.of("x", new FloatTensor(new int[]{100}, x)));
            assertThat(model.peakIntermediateBytes()).isEqualTo(1200);
            assertThat(model.lastPeakIntermediateBytes()).isEqualTo(1200);
            // row 0 of c is 2·relu(x[0..9]) = 0, row 4 is 2·mean(x[40..49] - 50 clipped) = 0, row 6 is 2·(10+...+19)/10 = 29
            float[] d = out.values().iterator().next().data();
            assertThat(d[0]).isZero();
            assertThat(d[6]).isEqualTo(29f);
            assertThat(d[16]).isEqualTo(29f);
            // the caller's input array is never modified
            assertThat(x[0]).isEqualTo(-50f);
        }
    }
}
