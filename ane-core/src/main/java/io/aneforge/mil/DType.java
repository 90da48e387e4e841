package io.aneforge.mil;

/**
 * MIL element types with their Core ML wire codes ({@code MILSpec.DataType}), their
 * weight-blob codes (blob storage v2; 0 = not storable in a blob) and the short names
 * {@code cast} uses ({@code "fp16"}, {@code "int32"}, ...).
 */
public enum DType {
    BOOL(1, 8, 0, "bool"),
    STRING(2, 0, 0, "string"),
    FP16(10, 16, 1, "fp16"),
    FP32(11, 32, 2, "fp32"),
    FP64(12, 64, 0, "fp64"),
    BF16(13, 16, 5, "bf16"),
    INT8(21, 8, 4, "int8"),
    INT16(22, 16, 6, "int16"),
    INT32(23, 32, 14, "int32"),
    INT64(24, 64, 0, "int64"),
    INT4(25, 4, 8, "int4"),
    UINT8(31, 8, 3, "uint8"),
    UINT16(32, 16, 7, "uint16"),
    UINT32(33, 32, 15, "uint32"),
    UINT64(34, 64, 0, "uint64"),
    UINT4(35, 4, 11, "uint4");

    private final int protoCode;
    private final int bits;
    private final int blobCode;
    private final String milName;

    DType(int protoCode, int bits, int blobCode, String milName) {
        this.protoCode = protoCode;
        this.bits = bits;
        this.blobCode = blobCode;
        this.milName = milName;
    }

    public int protoCode() {
        return protoCode;
    }

    /** Storage bits per element (bool is stored as one byte); 0 for strings. */
    public int bits() {
        return bits;
    }

    /** Dtype code in weight.bin metadata records; 0 when the type cannot live in a blob. */
    public int blobCode() {
        return blobCode;
    }

    public String milName() {
        return milName;
    }

    public boolean isFloat() {
        return this == FP16 || this == FP32 || this == FP64 || this == BF16;
    }

    public boolean isInteger() {
        return !isFloat() && this != BOOL && this != STRING;
    }

    public boolean isSigned() {
        return switch (this) {
            case INT4, INT8, INT16, INT32, INT64 -> true;
            default -> false;
        };
    }

    /** Bytes needed for {@code count} elements (sub-byte types packed, rounded up). */
    public long byteSize(long count) {
        if (this == STRING) {
            throw new IllegalStateException("strings have no fixed byte size");
        }
        return (count * bits + 7) / 8;
    }

    public static DType fromProtoCode(int code) {
        for (DType t : values()) {
            if (t.protoCode == code) {
                return t;
            }
        }
        throw new MilException("unknown MIL data type code " + code);
    }

    public static DType fromBlobCode(int code) {
        for (DType t : values()) {
            if (t.blobCode == code && code != 0) {
                return t;
            }
        }
        throw new MilException("unknown weight blob dtype code " + code);
    }

    /** Parses the name {@code cast} takes ({@code "fp16"}, {@code "int32"}, ...). */
    public static DType fromMilName(String name) {
        for (DType t : values()) {
            if (t.milName.equals(name)) {
                return t;
            }
        }
        throw new MilException("unknown dtype name '" + name + "' (expected one of fp16, fp32, int32, int8, uint8, bool, ...)");
    }
}
