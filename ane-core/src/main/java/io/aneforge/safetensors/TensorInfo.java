package io.aneforge.safetensors;

import java.util.Arrays;

/**
 * One header entry. {@code begin}/{@code end} are byte offsets relative to the data buffer
 * (end exclusive), already checked against the buffer and the shape.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        if (name == null || dtype == null || shape == null || begin < 0 || end < begin) {
            throw new IllegalStateException("invalid tensor info for " + name);
        }
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public long byteLength() {
        return end - begin;
    }

    public int[] intShape() {
        return Arrays.stream(shape).mapToInt(Math::toIntExact).toArray();
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
