package io.aneforge.agent.registry;

/**
 * A registry call failed. {@link #retryable()} is true for transport failures and 5xx answers
 * (try again later), false for refusals (4xx) that repeating will not change.
 */
public class RegistryException extends RuntimeException {

    private final int status;
    private final boolean retryable;

    public RegistryException(String message, int status, boolean retryable, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.retryable = retryable;
    }

    /** HTTP status, or -1 when the request did not get an answer. */
    public int status() {
        return status;
    }

    public boolean retryable() {
        return retryable;
    }
}
