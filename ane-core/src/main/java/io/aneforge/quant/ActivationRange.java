package io.aneforge.quant;

/**
 * The smallest and largest value calibration saw at the input of a weight ({@code rmin} and {@code rmax} in
 * coremltools' activation statistics), over the real tokens of every calibration text. W8A8's activation scales
 * come from it.
 */
public record ActivationRange(float min, float max) {
    public ActivationRange {
        if (!(min <= max)) {
            throw new IllegalArgumentException("activation range [" + min + ", " + max + "] is empty or not a number");
        }
    }

    /** The range of both: the smaller minimum and the larger maximum. */
    public ActivationRange union(ActivationRange o) {
        return new ActivationRange(Math.min(min, o.min), Math.max(max, o.max));
    }
}
