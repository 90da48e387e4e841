package io.aneforge.runtime;

/** A package could not be loaded by a runtime; the message names the package and the reason. */
public class RuntimeLoadException extends RuntimeException {

    public RuntimeLoadException(String message) {
        super(message);
    }

    public RuntimeLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
