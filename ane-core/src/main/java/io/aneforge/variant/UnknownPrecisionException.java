package io.aneforge.variant;

/**
 * {@link Precision#parse} of a text in none of the precision forms, as opposed to a known form with a wrong part
 * ({@code int8-block32-ffn8}, {@code int4-block48}), whose plain {@link IllegalArgumentException} names that part and
 * the fix. {@link PrecisionSelector#parse} tells the two apart: its own list of forms replaces this message, but would
 * only bury the other one.
 */
public final class UnknownPrecisionException extends IllegalArgumentException {

    UnknownPrecisionException(String message) {
        super(message);
    }
}
