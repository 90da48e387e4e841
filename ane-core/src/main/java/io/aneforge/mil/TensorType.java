package io.aneforge.mil;

import java.util.Arrays;

/** A static tensor type: element type and a fully known shape of rank 0..5. */
public record TensorType(DType dtype, int[] shape) {

    public static final int MAX_RANK = 5;
    /**
     * The most elements a tensor may have: one Java array holds a tensor's values, and {@link #elementCount()}
     * must not wrap (65536^4 is 2^64, which a long multiplication turns into 0).
     */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE;

    public TensorType {
        if (dtype == null || shape == null) {
            throw new IllegalArgumentException("dtype and shape are required");
        }
        if (shape.length > MAX_RANK) {
            throw new MilException("rank " + shape.length + " exceeds the Core ML maximum of " + MAX_RANK
                    + " (shape " + Arrays.toString(shape) + ")");
        }
        long count = 1;
        for (int d : shape) {
            if (d <= 0) {
                throw new MilException("shape " + Arrays.toString(shape) + " has a non-positive dimension; only static shapes are supported");
            }
            count *= d; // at most (2^31 - 1)^2 here: count was <= MAX_ELEMENTS before, so this never wraps
            if (count > MAX_ELEMENTS) {
                java.math.BigInteger exact = java.math.BigInteger.ONE;
                for (int e : shape) {
                    exact = exact.multiply(java.math.BigInteger.valueOf(e));
                }
                throw new MilException("shape " + Arrays.toString(shape) + " has " + exact + " elements, more than the "
                        + MAX_ELEMENTS + " a tensor may have");
            }
        }
        shape = shape.clone();
    }

    public static TensorType of(DType dtype, int... shape) {
        return new TensorType(dtype, shape);
    }

    public static TensorType scalar(DType dtype) {
        return new TensorType(dtype, new int[0]);
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    public TensorType withDType(DType d) {
        return new TensorType(d, shape);
    }

    public TensorType withShape(int... s) {
        return new TensorType(dtype, s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorType t && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return dtype.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return dtype.milName() + Arrays.toString(shape);
    }
}
