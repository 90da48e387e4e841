package io.aneforge.runtime;

/**
 * A prediction was refused or failed because of what the caller passed (a missing or
 * misshaped input, a token id out of range); the message names the input or op and the fix.
 */
public class PredictionException extends RuntimeException {

    public PredictionException(String message) {
        super(message);
    }

    public PredictionException(String message, Throwable cause) {
        super(message, cause);
    }
}
