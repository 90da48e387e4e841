package io.aneforge.quant;

import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;

/**
 * Reference evaluation of {@code constexpr_blockwise_shift_scale} (iOS 18), straight from
 * its definition: {@code scale} and {@code offset} have the rank of {@code data}; the block
 * size on axis m is {@code data.shape[m] / scale.shape[m]}, and
 * {@code out[i] = scale[i / block] · (data[i] − offset[i / block])} (per axis).
 */
public final class ShiftScale {

    private ShiftScale() {
    }

    /**
     * @param data   integer values, row-major, shape {@code shape}
     * @param offset per-block offsets with the scale's shape, or {@code null} for none
     */
    public static float[] dequantize(int[] shape, int[] data, int[] scaleShape, float[] scale, int[] offset) {
        if (scaleShape.length != shape.length) {
            throw new IllegalArgumentException("scale rank " + scaleShape.length + " must equal data rank " + shape.length);
        }
        int rank = shape.length;
        int[] block = new int[rank];
        for (int m = 0; m < rank; m++) {
            if (scaleShape[m] <= 0 || shape[m] % scaleShape[m] != 0) {
                throw new IllegalArgumentException("axis " + m + ": data size " + shape[m]
                        + " is not a multiple of scale size " + scaleShape[m] + " (data " + Arrays.toString(shape)
                        + ", scale " + Arrays.toString(scaleShape) + ")");
            }
            block[m] = shape[m] / scaleShape[m];
        }
        long n = FloatTensor.elementCount(shape);
        if (data.length != n || scale.length != FloatTensor.elementCount(scaleShape)
                || (offset != null && offset.length != scale.length)) {
            throw new IllegalArgumentException("data/scale/offset lengths do not match their shapes");
        }
        float[] out = new float[data.length];
        int[] idx = new int[rank];
        for (int i = 0; i < data.length; i++) {
            int s = 0;
            for (int m = 0; m < rank; m++) {
                s = s * scaleShape[m] + idx[m] / block[m];
            }
            out[i] = scale[s] * (data[i] - (offset == null ? 0 : offset[s]));
            for (int m = rank - 1; m >= 0; m--) {
                if (++idx[m] < shape[m]) {
                    break;
                }
                idx[m] = 0;
            }
        }
        return out;
    }
}
