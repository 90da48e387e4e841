package io.aneforge.agent.coreml;

import io.aneforge.kernels.Fp16;
import java.nio.ByteBuffer;

/** Row-major index arithmetic for strided arrays; strides are in elements. */
final class StridedLayout {

    private StridedLayout() {}

    /** Contiguous row-major strides of a shape: [2, 3, 4] → [12, 4, 1]. */
    static long[] contiguousStrides(int[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }

    /** Bytes from element 0 to the end of the last element: (Σ (shape[i]-1)·strides[i] + 1) · size. */
    static long byteSpan(int[] shape, long[] strides, int elementBytes) {
        long last = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0) {
                return 0;
            }
            last += (long) (shape[i] - 1) * strides[i];
        }
        return (last + 1) * elementBytes;
    }

    /**
     * Element offsets (in elements) of every index in row-major order of {@code shape}, for
     * the given strides; callers walk source and destination with the same shape.
     */
    static long[] offsets(int[] shape, long[] strides) {
        long count = io.aneforge.tensor.FloatTensor.elementCount(shape);
        if (count > Integer.MAX_VALUE) {
            throw new IllegalStateException("array of " + count + " elements is too large");
        }
        long[] out = new long[(int) count];
        int[] idx = new int[shape.length];
        long offset = 0;
        for (int n = 0; n < out.length; n++) {
            out[n] = offset;
            // odometer increment, last dimension fastest
            for (int d = shape.length - 1; d >= 0; d--) {
                idx[d]++;
                offset += strides[d];
                if (idx[d] < shape[d]) {
                    break;
                }
                offset -= (long) idx[d] * strides[d];
                idx[d] = 0;
            }
        }
        return out;
    }

    /** Reads element {@code index} (in elements) of {@code type} from {@code buf} as float. */
    static float read(ByteBuffer buf, MultiArrayDataType type, long index) {
        int at = Math.toIntExact(index * type.elementBytes());
        return switch (type) {
            case FLOAT16 -> Fp16.toFloat(buf.getShort(at));
            case FLOAT32 -> buf.getFloat(at);
            case FLOAT64 -> (float) buf.getDouble(at);
            case INT32 -> buf.getInt(at);
        };
    }

    /** Writes {@code value}, already checked to be representable, as {@code type}. */
    static void write(ByteBuffer buf, MultiArrayDataType type, long index, float value) {
        int at = Math.toIntExact(index * type.elementBytes());
        switch (type) {
            case FLOAT16 -> buf.putShort(at, Fp16.fromFloat(value));
            case FLOAT32 -> buf.putFloat(at, value);
            case FLOAT64 -> buf.putDouble(at, value);
            case INT32 -> buf.putInt(at, (int) value);
        }
    }
}
