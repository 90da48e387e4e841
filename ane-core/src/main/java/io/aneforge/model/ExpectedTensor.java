package io.aneforge.model;

import java.util.Arrays;

/** A weight an architecture requires (or accepts, when optional), in canonical Hub name and layout. */
public record ExpectedTensor(String name, int[] shape, boolean optional) {
    public ExpectedTensor {
        if (name == null || name.isEmpty() || shape == null) {
            throw new IllegalStateException("expected tensor needs a name and a shape");
        }
        shape = shape.clone();
    }

    static ExpectedTensor required(String name, int... shape) {
        return new ExpectedTensor(name, shape, false);
    }

    static ExpectedTensor optional(String name, int... shape) {
        return new ExpectedTensor(name, shape, true);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (optional ? " (optional)" : "");
    }
}
