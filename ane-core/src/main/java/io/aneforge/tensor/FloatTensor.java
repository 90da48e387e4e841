package io.aneforge.tensor;

import java.util.Arrays;

/**
 * A dense, row-major FP32 tensor: the currency between weight readers (safetensors,
 * ONNX), quantizers, graph builders and the reference runtime.
 *
 * <p>The arrays are not copied (models are large); callers must not mutate a tensor
 * they have handed on.
 */
public record FloatTensor(int[] shape, float[] data) {

    public FloatTensor {
        if (shape == null || data == null) {
            throw new IllegalArgumentException("shape and data are required");
        }
        long count = elementCount(shape);
        if (count != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                    + " elements but data has " + data.length);
        }
    }

    public static FloatTensor zeros(int... shape) {
        return new FloatTensor(shape.clone(), new float[Math.toIntExact(elementCount(shape))]);
    }

    /** Number of elements a shape holds; rejects negative dimensions and overflow. */
    public static long elementCount(int[] shape) {
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return data.length;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "FloatTensor" + shapeString();
    }
}
