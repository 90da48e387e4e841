package io.aneforge.gate;

/** A gate definition that cannot be enforced (user input: the API answers 400 with this message). */
public class InvalidGatesException extends IllegalArgumentException {
    public InvalidGatesException(String message) {
        super(message);
    }
}
