package io.aneforge.quant;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShiftScaleTest {

    @Test
    void goldenCaseFromTheFormatNotes() {
        // COREML_FORMAT.md §4: data int8 (1,2,4), scale fp16 (1,1,2) [4,8], offset int8 [4,0].
        float[] out = ShiftScale.dequantize(new int[] {1, 2, 4}, new int[] {4, 8, 10, 13, 24, 5, 6, 9},
                new int[] {1, 1, 2}, new float[] {4, 8}, new int[] {4, 0});
        assertThat(out).containsExactly(0, 16, 80, 104, 80, 4, 48, 72);
    }

    @Test
    void scaleMustTileTheData() {
        assertThatThrownBy(() -> ShiftScale.dequantize(new int[] {2, 6}, new int[12], new int[] {2, 4},
                new float[8], null))
                .hasMessageContaining("axis 1: data size 6 is not a multiple of scale size 4");
    }
}
