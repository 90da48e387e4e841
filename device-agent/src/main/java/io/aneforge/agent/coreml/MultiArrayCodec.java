package io.aneforge.agent.coreml;

import io.aneforge.tensor.FloatTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * FloatTensor ↔ MLMultiArray bytes. Inputs are encoded into the model's declared type
 * (token ids and masks become Int32 and must be exact integers); outputs of any supported
 * type and layout decode to a contiguous FP32 tensor.
 */
final class MultiArrayCodec {

    private MultiArrayCodec() {}

    /** Copies {@code tensor} into a strided destination buffer of {@code type} (an MLMultiArray's memory). */
    static void encodeInto(String name, FloatTensor tensor, MultiArrayDataType type, ByteBuffer dst, long[] dstStrides) {
        if (dstStrides.length != tensor.rank()) {
            throw new IllegalStateException("input '" + name + "' has rank " + tensor.rank()
                    + " but the array allocated for it has " + dstStrides.length + " strides");
        }
        float[] data = tensor.data();
        long[] offsets = StridedLayout.offsets(tensor.shape(), dstStrides);
        ByteBuffer out = dst.duplicate().order(ByteOrder.nativeOrder());
        for (int i = 0; i < data.length; i++) {
            float v = data[i];
            if (type == MultiArrayDataType.INT32 && (v != Math.rint(v) || Math.abs(v) > (1 << 24))) {
                throw new CoreMlException("input '" + name + "' is declared Int32 but element " + i + " is " + v
                        + ": pass exact integer values (token ids, masks) up to 2^24");
            }
            StridedLayout.write(out, type, offsets[i], v);
        }
    }

    /** A contiguous HostArray of {@code tensor} in {@code type} (tests and strides-free callers). */
    static HostArray encode(String name, FloatTensor tensor, MultiArrayDataType type) {
        long[] strides = StridedLayout.contiguousStrides(tensor.shape());
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(
                StridedLayout.byteSpan(tensor.shape(), strides, type.elementBytes()))).order(ByteOrder.nativeOrder());
        encodeInto(name, tensor, type, buf, strides);
        return new HostArray(type, tensor.shape().clone(), strides, buf);
    }

    /** A contiguous FP32 tensor from an array of any supported type and strides. */
    static FloatTensor decode(HostArray array) {
        ByteBuffer in = array.data().duplicate().order(ByteOrder.nativeOrder());
        long[] offsets = StridedLayout.offsets(array.shape(), array.strides());
        float[] out = new float[offsets.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = StridedLayout.read(in, array.dataType(), offsets[i]);
        }
        return new FloatTensor(array.shape().clone(), out);
    }
}
