package io.aneforge.convert;

/** A conversion that cannot be done as asked (bad variant for the model, unwritable output, unsupported model). */
public class ConversionException extends RuntimeException {
    public ConversionException(String message) {
        super(message);
    }

    public ConversionException(String message, Throwable cause) {
        super(message, cause);
    }
}
