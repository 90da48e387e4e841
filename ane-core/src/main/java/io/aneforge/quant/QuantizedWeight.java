package io.aneforge.quant;

import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;

/**
 * Integer weights with scales (and zero points for affine/unsigned), ready for
 * {@code constexpr_affine_dequantize} (per channel: scale shape {@code [O]}, axis 0) or
 * {@code constexpr_blockwise_shift_scale} (per block: scale shape {@code [O, I/B]} for
 * linear, {@code [O, I/B, 1, 1]} for conv).
 *
 * <p>Layout fact the code relies on: every scale covers a contiguous run of
 * {@code values.length / scales.length} elements in row-major order (one output channel,
 * or B input channels times the kernel window), so scale {@code g} applies to elements
 * {@code [g·len, (g+1)·len)}.
 *
 * @param values     one quantized value per element (int types signed, uint types read with {@code & 0xff});
 *                   use {@link #packedValues()} for the blob bytes
 * @param scales     FP16-representable scales (the quantizer used exactly these values)
 * @param zeroPoints per-scale zero points in the storage type, or {@code null} when all are 0
 *                   (symmetric signed): Core ML's {@code offset}/{@code zero_point}
 */
public record QuantizedWeight(String name, QuantSpec spec, int[] shape, byte[] values,
                              int[] scaleShape, float[] scales, byte[] zeroPoints) implements EncodedWeight {

    public QuantizedWeight {
        if (name == null || spec == null || shape == null || values == null || scaleShape == null || scales == null) {
            throw new IllegalArgumentException("all fields except zeroPoints are required");
        }
        if (spec.kind() == QuantSpec.Kind.FP16) {
            throw new IllegalArgumentException("quantized weight '" + name + "' cannot have an FP16 spec");
        }
        if (FloatTensor.elementCount(shape) != values.length) {
            throw new IllegalArgumentException("quantized weight '" + name + "': shape " + Arrays.toString(shape)
                    + " does not match " + values.length + " values");
        }
        if (FloatTensor.elementCount(scaleShape) != scales.length || scales.length == 0
                || values.length % scales.length != 0) {
            throw new IllegalArgumentException("quantized weight '" + name + "': scale shape "
                    + Arrays.toString(scaleShape) + " with " + scales.length + " scales does not tile "
                    + values.length + " values");
        }
        if (zeroPoints != null && zeroPoints.length != scales.length) {
            throw new IllegalArgumentException("quantized weight '" + name + "': " + zeroPoints.length
                    + " zero points for " + scales.length + " scales");
        }
    }

    @Override
    public String scheme() {
        return spec.label();
    }

    /** Elements covered by one scale. */
    public int groupLength() {
        return values.length / scales.length;
    }

    /** {@code out = scale · (q − zero_point)}, in FP32, exactly as Core ML defines the constexpr ops. */
    @Override
    public FloatTensor dequantize() {
        float[] out = new float[values.length];
        int len = groupLength();
        QuantType t = spec.type();
        boolean signed = t.signed(); // decided once, so the inner loops stay branch-free
        for (int g = 0; g < scales.length; g++) {
            float s = scales[g];
            int zp = zeroPoints == null ? 0 : t.decode(zeroPoints[g]);
            int base = g * len;
            if (signed) {
                for (int i = base; i < base + len; i++) {
                    out[i] = s * (values[i] - zp);
                }
            } else {
                for (int i = base; i < base + len; i++) {
                    out[i] = s * ((values[i] & 0xff) - zp);
                }
            }
        }
        return new FloatTensor(shape.clone(), out);
    }

    /** {@link #dequantize()}'s values of elements {@code [from, from + count)} into {@code dst[0, count)}. */
    @Override
    public void dequantize(int from, int count, float[] dst) {
        int len = groupLength();
        QuantType t = spec.type();
        for (int i = from; i < from + count; ) {
            int g = i / len;
            int end = Math.min(from + count, (g + 1) * len);
            float s = scales[g];
            int zp = zeroPoints == null ? 0 : t.decode(zeroPoints[g]);
            for (; i < end; i++) {
                dst[i - from] = s * (t.decode(values[i]) - zp);
            }
        }
    }

    /** Values as stored in the blob: int8/uint8 one per byte, int4/uint4 two per byte, LSB first. */
    public byte[] packedValues() {
        return spec.type().bits() == 4 ? Int4Packing.pack(values) : values.clone();
    }

    /** Zero points as stored in the blob (same packing as the values), or {@code null}. */
    public byte[] packedZeroPoints() {
        if (zeroPoints == null) {
            return null;
        }
        return spec.type().bits() == 4 ? Int4Packing.pack(zeroPoints) : zeroPoints.clone();
    }

    /** Data + FP16 scales + zero points, as stored. */
    @Override
    public long storedBytes() {
        long dataBytes = spec.type().bits() == 4 ? (values.length + 1L) / 2 : values.length;
        long zpBytes = zeroPoints == null ? 0 : spec.type().bits() == 4 ? (zeroPoints.length + 1L) / 2 : zeroPoints.length;
        return dataBytes + 2L * scales.length + zpBytes;
    }
}
