package io.aneforge.quant;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Int4PackingTest {

    @Test
    void packsLowNibbleFirst() {
        byte[] packed = Int4Packing.pack(new byte[] {-1, -8, 7, -2, 3});
        // -1 = 0xF, -8 = 0x8 -> 0x8F; 7, -2 = 0xE -> 0xE7; 3 -> 0x03 (4 padding bits)
        assertThat(packed).containsExactly((byte) 0x8F, (byte) 0xE7, (byte) 0x03);
        assertThat(Int4Packing.paddingBits(5)).isEqualTo(4);
        assertThat(Int4Packing.unpack(packed, 5, true)).containsExactly(-1, -8, 7, -2, 3);
        assertThat(Int4Packing.unpack(packed, 5, false)).containsExactly(15, 8, 7, 14, 3);
    }
}
