package io.aneforge.mil;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class ConstantTest {

    /** The bulk decoder is floatAt in one loop per dtype: same bits for every element (NaN payloads included), any range. */
    @Test
    void floatsIntoGivesFloatAtForEveryNumericDtype() {
        SplittableRandom r = new SplittableRandom(5);
        for (DType dtype : DType.values()) {
            if (dtype == DType.STRING) {
                continue;
            }
            int n = 1001; // odd: a half-filled last byte for 4-bit types
            byte[] raw = new byte[Math.toIntExact(dtype.byteSize(n))];
            for (int i = 0; i < raw.length; i++) {
                raw[i] = (byte) r.nextInt(256);
            }
            if (dtype == DType.BOOL) {
                for (int i = 0; i < raw.length; i++) {
                    raw[i] &= 1;
                }
            }
            Constant c = Constant.ofRaw(TensorType.of(dtype, n), raw);
            float[] all = c.toFloats();
            float[] part = new float[n + 4];
            c.floatsInto(3, part, 2, n - 7);
            for (int i = 0; i < n; i++) {
                assertThat(Float.floatToRawIntBits(all[i])).as("%s element %d", dtype, i)
                        .isEqualTo(Float.floatToRawIntBits(c.floatAt(i)));
            }
            for (int i = 0; i < n - 7; i++) {
                assertThat(Float.floatToRawIntBits(part[2 + i])).as("%s element %d from 3", dtype, 3 + i)
                        .isEqualTo(Float.floatToRawIntBits(c.floatAt(3 + i)));
            }
        }
    }
}
