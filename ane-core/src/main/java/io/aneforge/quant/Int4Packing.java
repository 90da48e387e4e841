package io.aneforge.quant;

/**
 * 4-bit values two per byte, least significant nibble first (Core ML blob storage: element
 * {@code 2k} in bits 0–3 of byte {@code k}, element {@code 2k+1} in bits 4–7). An odd count
 * leaves the top nibble of the last byte zero: {@code padding_size_in_bits = 4}.
 */
public final class Int4Packing {

    private Int4Packing() {
    }

    /** Packs values in {@code [-8, 7]} (int4) or {@code [0, 15]} (uint4); only the low nibble is kept. */
    public static byte[] pack(byte[] values) {
        byte[] out = new byte[(values.length + 1) / 2];
        for (int i = 0; i < values.length; i++) {
            int nibble = values[i] & 0x0f;
            out[i >> 1] |= (byte) ((i & 1) == 0 ? nibble : nibble << 4);
        }
        return out;
    }

    /** Unpacks {@code count} values; {@code signed} sign-extends each nibble (int4). */
    public static byte[] unpack(byte[] packed, int count, boolean signed) {
        if (count < 0 || (count + 1) / 2 > packed.length) {
            throw new IllegalArgumentException("cannot unpack " + count + " 4-bit values from " + packed.length + " bytes");
        }
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            int nibble = (packed[i >> 1] >> ((i & 1) * 4)) & 0x0f;
            out[i] = (byte) (signed ? (nibble << 28) >> 28 : nibble);
        }
        return out;
    }

    /** Padding bits of a packed blob holding {@code count} 4-bit values. */
    public static int paddingBits(int count) {
        return (count & 1) * 4;
    }
}
