package io.aneforge.quant;

/** A weight that cannot be quantized as asked (non-finite values, out-of-range scales, bad shapes). */
public class QuantizationException extends RuntimeException {
    public QuantizationException(String message) {
        super(message);
    }
}
