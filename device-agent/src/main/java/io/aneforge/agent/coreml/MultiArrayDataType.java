package io.aneforge.agent.coreml;

/**
 * Apple's {@code MLMultiArrayDataType} codes (MLMultiArray.h): a kind bit ({@code 0x10000}
 * float, {@code 0x20000} integer) OR'ed with the bit width.
 */
public enum MultiArrayDataType {
    FLOAT16(0x10000 | 16, 2),
    FLOAT32(0x10000 | 32, 4),
    FLOAT64(0x10000 | 64, 8),
    INT32(0x20000 | 32, 4);

    private final long code;
    private final int bytes;

    MultiArrayDataType(long code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    public long code() {
        return code;
    }

    public int elementBytes() {
        return bytes;
    }

    public static MultiArrayDataType fromCode(long code) {
        for (MultiArrayDataType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new CoreMlException("unsupported MLMultiArrayDataType 0x" + Long.toHexString(code)
                + ": the agent reads and writes Float16, Float32, Float64 and Int32 arrays");
    }
}
