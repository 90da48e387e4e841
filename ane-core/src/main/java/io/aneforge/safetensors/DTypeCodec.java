package io.aneforge.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Little-endian element decoding; the only place that knows F16/BF16 bit layouts. */
final class DTypeCodec {
    private DTypeCodec() {
    }

    static void decodeFloats(DType dtype, ByteBuffer bytes, float[] out) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = halfToFloat(b.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xFFFF) << 16);
                }
            }
            default -> throw new IllegalStateException("not a float dtype: " + dtype);
        }
    }

    /** IEEE 754 binary16 to binary32 (Float.float16ToFloat is Java 20+), via {@link io.aneforge.kernels.Fp16}. */
    static float halfToFloat(short half) {
        return io.aneforge.kernels.Fp16.toFloat(half); // the one FP16 implementation in ane-core
    }
}
