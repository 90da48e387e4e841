package io.aneforge.runtime.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.mil.DType;
import io.aneforge.mil.Program;
import io.aneforge.runtime.PredictionException;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ReferenceModel#predictAll} (op-major) gives each input exactly what {@link ReferenceModel#predict} gives it alone. */
class PredictAllTest {

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void opMajorPredictionsAreBitForBitThoseOfSinglePredictions(boolean fp16) {
        for (Program p : new Program[] {TestPrograms.standard(7, 2, DType.FP32, "EXACT"), TestPrograms.ane(11, 2, DType.FP32)}) {
            // more inputs than one group, so a second group runs too
            List<Map<String, FloatTensor>> inputs = new ArrayList<>();
            for (int i = 0; i < ReferenceModel.GROUP + 3; i++) {
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
                // the inputs differ, so a mix-up between frames would show
                assertThat(bits(together.get(0).values().iterator().next().data()))
                        .isNotEqualTo(bits(together.get(1).values().iterator().next().data()));
                // peak: that of one prediction (the programs' shapes are static, so every input has the same)
                assertThat(m.peakIntermediateBytes()).isEqualTo(largestPeak).isPositive();
            }
        }
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
