package io.aneforge.safetensors;

import java.util.Arrays;
import java.util.Optional;

/** The safetensors element types this reader decodes; names are the header's {@code dtype} strings. */
public enum DType {
    F32(4), F16(2), BF16(2), I8(1), I32(4), I64(8);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    static Optional<DType> parse(String name) {
        return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
    }
}
