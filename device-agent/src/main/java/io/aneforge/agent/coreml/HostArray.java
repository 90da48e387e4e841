package io.aneforge.agent.coreml;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The bytes of an MLMultiArray on the Java side: element type, shape, strides in
 * <b>elements</b> (as {@code MLMultiArray.strides} reports them; Core ML pads the last
 * dimension of ANE outputs, so strides are not always the contiguous ones) and the bytes in
 * native (little-endian) order, starting at element 0.
 */
public record HostArray(MultiArrayDataType dataType, int[] shape, long[] strides, ByteBuffer data) {

    public HostArray {
        if (shape.length != strides.length) {
            throw new IllegalStateException("shape " + Arrays.toString(shape) + " and strides "
                    + Arrays.toString(strides) + " differ in rank");
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0 || strides[i] < 0) {
                throw new IllegalStateException("negative shape or stride: shape " + Arrays.toString(shape)
                        + " strides " + Arrays.toString(strides));
            }
        }
        long needed = StridedLayout.byteSpan(shape, strides, dataType.elementBytes());
        if (data.remaining() < needed) {
            throw new IllegalStateException("buffer of " + data.remaining() + " bytes is too small for shape "
                    + Arrays.toString(shape) + " strides " + Arrays.toString(strides) + " (" + needed + " bytes)");
        }
    }
}
