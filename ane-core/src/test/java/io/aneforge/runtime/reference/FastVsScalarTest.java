package io.aneforge.runtime.reference;

import io.aneforge.kernels.Kernels;
import io.aneforge.kernels.Parallel;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.ReferenceEvaluator;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Whole programs run with the fast kernels and with the scalar evaluations agree on random inputs. */
class FastVsScalarTest {

    private static final RuntimeOptions TWO_THREADS = new RuntimeOptions("cpuOnly", false, 2);

    /** Largest |fast - scalar| relative to the largest |scalar| of each output. */
    static double maxRelativeDifference(Map<String, FloatTensor> expected, Map<String, FloatTensor> actual) {
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        double worst = 0;
        for (String name : expected.keySet()) {
            float[] e = expected.get(name).data();
            float[] a = actual.get(name).data();
            assertThat(a).hasSameSizeAs(e);
            double scale = 1e-6;
            double diff = 0;
            for (int i = 0; i < e.length; i++) {
                assertThat(Float.isFinite(a[i])).as("%s[%d] is finite", name, i).isTrue();
                scale = Math.max(scale, Math.abs(e[i]));
                diff = Math.max(diff, Math.abs(e[i] - a[i]));
            }
            worst = Math.max(worst, diff / scale);
        }
        return worst;
    }

    private static void assertAgree(Program p, Map<String, FloatTensor> in) {
        ReferenceModel fast = ReferenceRuntime.load(p, TWO_THREADS, true);
        ReferenceModel scalar = ReferenceRuntime.load(p, TWO_THREADS, false);
        assertThat(fast.plan().fastStepCount()).as("ops on fast kernels").isPositive();
        assertThat(scalar.plan().fastStepCount()).isZero();
        Map<String, FloatTensor> s = scalar.predict(in);
        Map<String, FloatTensor> f = fast.predict(in);
        assertThat(maxRelativeDifference(s, f)).isLessThan(1e-4);
        // the scalar plan is the evaluator's meaning, bit for bit
        Map<String, FloatTensor> ref = ReferenceEvaluator.run(p, in);
        for (String name : ref.keySet()) {
            assertThat(s.get(name).data()).as(name).containsExactly(ref.get(name).data());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"EXACT", "TANH_APPROXIMATION"})
    void standardLayoutEncoder(String gelu) {
        Program p = TestPrograms.standard(7, 2, DType.FP32, gelu);
        ReferenceModel fast = ReferenceRuntime.load(p, TWO_THREADS, true);
        // linear, matmul, softmax, layer_norm, gelu, add, mul, real_div, transpose all on fast kernels
        assertThat(fast.plan().fastStepCount()).isGreaterThan(fast.plan().stepCount() / 2);
        for (long seed = 1; seed <= 3; seed++) {
            assertAgree(p, TestPrograms.inputs(seed));
        }
    }

    @Test
    void aneLayoutEncoderWithEinsumAndConv() {
        Program p = TestPrograms.ane(11, 2, DType.FP32);
        for (long seed = 1; seed <= 3; seed++) {
            assertAgree(p, TestPrograms.inputs(seed));
        }
    }

    @Test
    void generalConvolutions() {
        SplittableRandom r = new SplittableRandom(3);
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 2, 4, 9, 7);
        // 3x3, stride 2, same padding, two groups, dilation 1
        Var a = b.op("conv").arg("x", x).arg("weight", Constant.fp32(TestPrograms.gaussian(r, 6 * 2 * 9, 0.3), 6, 2, 3, 3))
                .arg("bias", Constant.fp32(TestPrograms.gaussian(r, 6, 0.3), 6)).arg("strides", new int[]{2, 2})
                .arg("pad_type", "same").arg("groups", 2).build();
        // 2x3 custom padding, dilation 2 on the width
        Var c = b.op("conv").arg("x", x).arg("weight", Constant.fp32(TestPrograms.gaussian(r, 5 * 4 * 6, 0.3), 5, 4, 2, 3))
                .arg("pad_type", "custom").arg("pad", new int[]{1, 0, 2, 1}).arg("dilations", new int[]{1, 2}).build();
        // 1-D conv over a [N, C, W] input, same_lower padding
        Var x1 = b.input("x1", DType.FP32, 1, 3, 10);
        Var d = b.op("conv").arg("x", x1).arg("weight", Constant.fp32(TestPrograms.gaussian(r, 4 * 3 * 4, 0.3), 4, 3, 4))
                .arg("pad_type", "same_lower").build();
        // 1x1 conv with stride 1 (no im2col) next to a strided 1x1 (im2col)
        Var e = b.conv(x, Constant.fp32(TestPrograms.gaussian(r, 3 * 4, 0.3), 3, 4, 1, 1), null);
        Var g = b.op("conv").arg("x", x).arg("weight", Constant.fp32(TestPrograms.gaussian(r, 3 * 4, 0.3), 3, 4, 1, 1))
                .arg("strides", new int[]{2, 3}).build();
        Program p = b.build(a, c, d, e, g);
        ReferenceModel fast = ReferenceRuntime.load(p, TWO_THREADS, true);
        assertThat(fast.plan().fastStepCount()).isEqualTo(5);
        assertAgree(p, Map.of("x", TestPrograms.random(1, 2, 4, 9, 7), "x1", TestPrograms.random(2, 1, 3, 10)));
    }

    @Test
    void oneThreadAndTwoThreadsGiveTheSameResult() {
        Program p = TestPrograms.standard(5, 1, DType.FP32, "EXACT");
        Map<String, FloatTensor> in = TestPrograms.inputs(4);
        Map<String, FloatTensor> two = ReferenceRuntime.load(p, TWO_THREADS, true).predict(in);
        Map<String, FloatTensor> one = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", false, 1), true).predict(in);
        assertThat(Parallel.threads()).isEqualTo(1);
        assertThat(maxRelativeDifference(two, one)).isLessThan(1e-6);
    }

    @Test
    void kernelSwitchParsesFastAndScalarAndNamesTheProperty() {
        assertThat(Kernels.parse("fast")).isTrue();
        assertThat(Kernels.parse(" SCALAR ")).isFalse();
        assertThatThrownBy(() -> Kernels.parse("turbo"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("system property aneforge.kernels='turbo' is not a kernel mode: use fast or scalar");
    }
}
