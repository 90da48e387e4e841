package io.aneforge.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

/** {@link GoldenTensor}: the elements after the held ones are +0.0f, wherever they are read. */
class GoldenTensorTest {

    private static final FloatTensor PADDED = new FloatTensor(new int[] {1, 3, 2}, new float[] {1, 2, 0, 3, 0, 0});

    @Test
    void trimmedHoldsUpToTheLastValueAndReadsTheRestAsZero() {
        GoldenTensor t = GoldenTensor.trimmed(PADDED);
        assertThat(t.stored()).containsExactly(1, 2, 0, 3);
        assertThat(t.size()).isEqualTo(6);
        assertThat(t.heldBytes()).isEqualTo(16);
        assertThat(t.expand()).isEqualTo(PADDED);

        float[] dst = {9, 9, 9, 9};
        t.copy(2, dst, 1, 3); // the last held value, then two not held
        assertThat(dst).containsExactly(9, 0, 3, 0);
        t.copy(4, dst, 0, 2);
        assertThat(dst).containsExactly(0, 0, 3, 0);
        dst[0] = 9;
        t.copy(5, dst, 0, 1); // a range that starts past the held elements: all zeros
        assertThat(dst).containsExactly(0, 0, 3, 0);
        assertThatThrownBy(() -> t.copy(5, dst, 0, 2)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void equalByValueWhateverPartOfTheZerosIsHeld() {
        GoldenTensor whole = GoldenTensor.of(PADDED);
        GoldenTensor trimmed = GoldenTensor.trimmed(PADDED);
        assertThat(whole).isEqualTo(trimmed).hasSameHashCodeAs(trimmed);
        assertThat(trimmed).isEqualTo(whole);
        assertThat(GoldenTensor.trimmed(new FloatTensor(new int[] {2}, new float[] {1, -0f})))
                .as("-0.0f is a value").isNotEqualTo(new GoldenTensor(new int[] {2}, new float[] {1}));
        assertThat(trimmed).isNotEqualTo(new GoldenTensor(new int[] {6}, trimmed.stored()));
        assertThatThrownBy(() -> new GoldenTensor(new int[] {1, 2}, new float[3]))
                .hasMessageContaining("3 stored elements for shape [1, 2], which holds 2");
    }

    /** size() is an int, as a FloatTensor's: a shape of more elements is refused, not wrapped (65536² would read 0). */
    @Test
    void refusesAShapeOfMoreElementsThanAnIntCounts() {
        assertThatThrownBy(() -> new GoldenTensor(new int[] {65536, 65536}, new float[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shape [65536, 65536] has 4294967296 elements, more than the 2147483647");
        assertThat(new GoldenTensor(new int[] {1, Integer.MAX_VALUE}, new float[0]).size()).isEqualTo(Integer.MAX_VALUE);
    }
}
