package io.aneforge.runtime.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.kernels.Gemm;
import io.aneforge.mil.Constant;
import io.aneforge.mil.DType;
import io.aneforge.mil.MilBuilder;
import io.aneforge.mil.Program;
import io.aneforge.mil.Target;
import io.aneforge.mil.Var;
import io.aneforge.runtime.PredictionException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ReferenceModel#predictAll} (op-major) gives each input exactly what {@link ReferenceModel#predict} gives it alone. */
class PredictAllTest {

    /**
     * 1: a group of one (each step's per-prediction entry point); GROUP + 1: a full group (the batched
     * convs) and a group of one; GROUP + 3: a full group and a group of three.
     */
    @ParameterizedTest
    @CsvSource({"false, 1", "true, 1", "false, 9", "true, 9", "false, 11", "true, 11"})
    void opMajorPredictionsAreBitForBitThoseOfSinglePredictions(boolean fp16, int count) {
        Program[] programs = {TestPrograms.standard(7, 2, DType.FP32, "EXACT"), TestPrograms.ane(11, 2, DType.FP32)};
        for (Program p : programs) {
            List<Map<String, FloatTensor>> inputs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                inputs.add(TestPrograms.inputs(100 + i));
            }
            List<Map<String, FloatTensor>> alone = new ArrayList<>();
            long largestPeak = 0;
            try (ReferenceModel m = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", fp16, 2), true)) {
                for (Map<String, FloatTensor> in : inputs) {
                    alone.add(m.predict(in));
                    largestPeak = Math.max(largestPeak, m.lastPeakIntermediateBytes());
                }
            }
            try (ReferenceModel m = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", fp16, 2), true)) {
                List<Map<String, FloatTensor>> together = m.predictAll(inputs);
                assertThat(together).hasSize(inputs.size());
                for (int i = 0; i < inputs.size(); i++) {
                    assertThat(together.get(i).keySet()).containsExactlyElementsOf(alone.get(i).keySet());
                    for (String name : alone.get(i).keySet()) {
                        FloatTensor a = alone.get(i).get(name);
                        FloatTensor b = together.get(i).get(name);
                        assertThat(b.shape()).isEqualTo(a.shape());
                        assertThat(bits(b.data())).as("input %d output %s", i, name).isEqualTo(bits(a.data()));
                    }
                }
                if (count > 1) { // the inputs differ, so a mix-up between frames would show
                    assertThat(bits(together.get(0).values().iterator().next().data()))
                            .isNotEqualTo(bits(together.get(1).values().iterator().next().data()));
                }
                // the ane layout's 1×1 convs (6 per layer) run batched; the standard layout's linears are group
                // kernels too (for real-token predictions) but run per prediction here
                assertThat(m.plan().steps().stream().filter(s -> s.kernel() instanceof GroupKernel && s.op().type().equals("conv"))
                        .count()).isEqualTo(p == programs[1] ? 6 * 2 : 0);
                assertThat(m.plan().steps().stream().filter(s -> s.kernel() instanceof GroupKernel)
                        .allMatch(s -> s.op().type().equals("conv") || s.op().type().equals("linear"))).isTrue();
                // peak: that of one prediction (the programs' shapes are static, so every input has the same)
                assertThat(m.peakIntermediateBytes()).isEqualTo(largestPeak).isPositive();
            }
        }
    }

    /**
     * A model loaded for one group of predictions (weights packed by the products that use them, as the converter's
     * fidelity check loads) predicts the bits of one that packed them at load, on every position and on real
     * positions only, for FP32 and FP16 weights, with and without FP16 activations.
     */
    @ParameterizedTest
    @CsvSource({"false, FP32", "true, FP32", "false, FP16", "true, FP16"})
    void packingWeightsOnUseGivesTheBitsOfPackingThemAtLoad(boolean fp16, DType weights) {
        Program[] programs = {TestPrograms.standard(7, 2, weights, "EXACT"), TestPrograms.ane(11, 2, weights)};
        for (Program p : programs) {
            List<Map<String, FloatTensor>> inputs = new ArrayList<>();
            for (int i = 0; i < ReferenceModel.GROUP; i++) {
                inputs.add(TestPrograms.inputs(200 + i));
            }
            int s = io.aneforge.mil.SequencePrefix.seqLen(p);
            int[] real = new int[inputs.size()];
            for (int i = 0; i < real.length; i++) {
                real[i] = 1 + (i * 3) % s;
            }
            for (int[] lengths : new int[][]{null, real}) {
                List<Map<String, FloatTensor>> atLoad;
                List<Map<String, FloatTensor>> onUse;
                try (ReferenceModel m = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", fp16, 2), true, false)) {
                    atLoad = m.predictAll(inputs, lengths);
                }
                try (ReferenceModel m = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", fp16, 2), true, true)) {
                    onUse = m.predictAll(inputs, lengths);
                }
                for (int i = 0; i < inputs.size(); i++) {
                    for (String name : atLoad.get(i).keySet()) {
                        assertThat(bits(onUse.get(i).get(name).data())).as("input %d output %s real %s", i, name, lengths != null)
                                .isEqualTo(bits(atLoad.get(i).get(name).data()));
                    }
                }
            }
        }
    }

    /**
     * The batched conv on shapes that are not whole blocks of the kernels: 5 positions (a partial panel),
     * 40 input and 70 / 33 output channels (row tails of 6 and 1), with and without bias, two images per
     * prediction; next to linears (run per prediction) reading the same input, one with a zero bias. Since
     * a single prediction takes the conv's batched path too, the bias-free conv is also checked against
     * the plain {@link Gemm#fast} product, bit for bit.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void batchedConvOnRaggedShapesIsBitForBitThatOfSinglePredictions(boolean fp16) {
        SplittableRandom rnd = new SplittableRandom(5);
        MilBuilder b = new MilBuilder(Target.IOS16);
        Var x = b.input("x", DType.FP32, 1, 5, 40);
        Var z = b.input("z", DType.FP32, 2, 40, 1, 5);
        Var lin = b.linear(x, floats(rnd, 70, 40), floats(rnd, 70));
        Var linNoBias = b.linear(x, floats(rnd, 33, 40), Constant.floats(DType.FP32, new float[33], 33));
        Var xc = b.expandDims(b.transpose(x, 0, 2, 1), 2); // [1, 40, 1, 5]
        Var conv = b.conv(xc, floats(rnd, 70, 40, 1, 1), floats(rnd, 70));
        Constant w2 = floats(rnd, 33, 40, 1, 1);
        Var conv2 = b.conv(z, w2, null);
        Program p = b.build(lin, linNoBias, conv, conv2);
        List<Map<String, FloatTensor>> inputs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            inputs.add(Map.of("x", TestPrograms.random(10 + i, 1, 5, 40), "z", TestPrograms.random(20 + i, 2, 40, 1, 5)));
        }
        try (ReferenceModel m = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", fp16, 2), true)) {
            assertThat(m.plan().steps().stream().filter(s -> s.kernel() instanceof GroupKernel).count()).isEqualTo(4);
            List<Map<String, FloatTensor>> alone = new ArrayList<>();
            for (Map<String, FloatTensor> in : inputs) {
                alone.add(m.predict(in));
            }
            List<Map<String, FloatTensor>> together = m.predictAll(inputs);
            for (int i = 0; i < inputs.size(); i++) {
                for (String name : alone.get(i).keySet()) {
                    assertThat(bits(together.get(i).get(name).data())).as("input %d output %s", i, name)
                            .isEqualTo(bits(alone.get(i).get(name).data()));
                }
            }
            if (!fp16) { // (under FP16 activations the inputs are rounded first)
                float[] w2d = w2.toFloats();
                for (int i = 0; i < inputs.size(); i++) {
                    float[] zd = inputs.get(i).get("z").data();
                    float[] want = new float[2 * 33 * 5];
                    for (int img = 0; img < 2; img++) {
                        Gemm.fast(33, 5, 40, w2d, 0, 40, false, zd, img * 40 * 5, 5, false, want, img * 33 * 5, 5, false);
                    }
                    assertThat(bits(together.get(i).get(conv2.name()).data())).as("input %d", i).isEqualTo(bits(want));
                }
            }
            // each prediction's output is its own
            for (String name : alone.get(0).keySet()) {
                assertThat(bits(together.get(0).get(name).data())).isNotEqualTo(bits(together.get(1).get(name).data()));
            }
        }
    }

    private static Constant floats(SplittableRandom rnd, int... shape) {
        int n = Math.toIntExact(FloatTensor.elementCount(shape));
        return Constant.floats(DType.FP32, TestPrograms.gaussian(rnd, n, 0.3), shape);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aBadInputInTheGroupNamesTheProblem(boolean fast) {
        Program p = TestPrograms.standard(7, 1, DType.FP32, "EXACT");
        Map<String, FloatTensor> bad = new HashMap<>(TestPrograms.inputs(1));
        bad.remove("attention_mask");
        try (ReferenceModel m = ReferenceRuntime.load(p, new RuntimeOptions("cpuOnly", false, 1), fast)) {
            assertThatThrownBy(() -> m.predictAll(List.of(TestPrograms.inputs(2), bad)))
                    .isInstanceOf(PredictionException.class).hasMessageContaining("missing input 'attention_mask'");
            // the model still predicts afterwards
            assertThat(m.predictAll(List.of(TestPrograms.inputs(2)))).hasSize(1);
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
