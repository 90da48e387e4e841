package io.aneforge.quant;

import io.aneforge.kernels.Fp16;
import io.aneforge.tensor.FloatTensor;

import java.util.Arrays;

/** A weight stored as a plain FP16 const. {@code halves} holds IEEE binary16 bits, row-major. */
public record Fp16Weight(String name, int[] shape, short[] halves) implements EncodedWeight {

    public Fp16Weight {
        if (name == null || shape == null || halves == null) {
            throw new IllegalArgumentException("name, shape and halves are required");
        }
        if (FloatTensor.elementCount(shape) != halves.length) {
            throw new IllegalArgumentException("FP16 weight '" + name + "': shape " + Arrays.toString(shape)
                    + " does not match " + halves.length + " values");
        }
    }

    @Override
    public String scheme() {
        return "fp16";
    }

    @Override
    public FloatTensor dequantize() {
        return new FloatTensor(shape.clone(), Fp16.toFloats(halves));
    }

    @Override
    public void dequantize(int from, int count, float[] dst) {
        Fp16.toFloats(halves, from, dst, 0, count);
    }

    @Override
    public long storedBytes() {
        return 2L * halves.length;
    }
}
