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

    /** An FP32 view is the FP32 constant of the same floats: same bytes, equal, same values, without copying them. */
    @Test
    void fp32ViewIsTheFp32ConstantOfItsFloats() {
        SplittableRandom r = new SplittableRandom(9);
        float[] data = new float[37];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian();
        }
        data[5] = Float.intBitsToFloat(0x7fc0_1234); // a NaN payload keeps its bits
        Constant view = Constant.fp32View(data, 37);
        Constant copy = Constant.fp32(data, 37);
        float[] part = new float[40];
        view.floatsInto(2, part, 1, 30);
        for (int i = 0; i < 30; i++) {
            assertThat(Float.floatToRawIntBits(part[1 + i])).isEqualTo(Float.floatToRawIntBits(data[2 + i]));
        }
        assertThat(Float.floatToRawIntBits(view.floatAt(5))).isEqualTo(0x7fc0_1234);
        assertThat(view.raw()).isEqualTo(copy.raw()).isSameAs(view.raw()); // made once
        assertThat(view).isEqualTo(copy).hasSameHashCodeAs(copy);
        assertThat(copy).isEqualTo(view);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Constant.fp32View(data, 36))
                .isInstanceOf(MilException.class).hasMessageContaining("needs 36 values but has 37");
    }
}
