package io.aneforge.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.tensor.FloatTensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The transpose (eight source rows at a time) moves every element where the plain double loop does, with and without a row tail. */
class OnnxTransposeTest {

    @Test
    void transposeEqualsTheElementWiseDefinition() {
        Random random = new Random(7);
        int[][] shapes = {{1, 1}, {1, 5}, {5, 1}, {32, 32}, {37, 70}, {64, 33}, {384, 1536}};
        for (int[] s : shapes) {
            float[] data = new float[s[0] * s[1]];
            for (int i = 0; i < data.length; i++) {
                data[i] = random.nextFloat();
            }
            FloatTensor t = OnnxWeights.transpose(new FloatTensor(s, data));
            assertThat(t.shape()).containsExactly(s[1], s[0]);
            float[] expected = new float[data.length];
            for (int r = 0; r < s[0]; r++) {
                for (int c = 0; c < s[1]; c++) {
                    expected[c * s[0] + r] = data[r * s[1] + c];
                }
            }
            assertThat(t.data()).as("shape %dx%d", s[0], s[1]).isEqualTo(expected);
        }
    }
}
