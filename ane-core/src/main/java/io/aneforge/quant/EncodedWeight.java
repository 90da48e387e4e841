package io.aneforge.quant;

import io.aneforge.tensor.FloatTensor;

/** A weight tensor as it will be stored in the model: FP16, or integers plus scales. */
public sealed interface EncodedWeight permits Fp16Weight, QuantizedWeight {

    /** Source tensor name (e.g. {@code encoder.layer.0.attention.self.query.weight}). */
    String name();

    /** Logical weight shape, e.g. {@code [O, I]} or {@code [O, I, 1, 1]}. */
    int[] shape();

    /** What was applied; for a tensor kept in FP16 this is {@link QuantSpec#fp16()}-like. */
    String scheme();

    /** The values the device will compute with, as FP32 (for error measurement). */
    FloatTensor dequantize();

    /**
     * The values {@link #dequantize()} gives for the flat elements {@code [from, from + count)}, into
     * {@code dst[0, count)}: a piece at a time, for measurements that need not hold a second copy.
     */
    void dequantize(int from, int count, float[] dst);

    /** Bytes this weight occupies in weight.bin payloads (data + scales + offsets, no metadata). */
    long storedBytes();
}
