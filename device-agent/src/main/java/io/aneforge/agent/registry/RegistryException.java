package io.aneforge.agent.registry;

/**
 * A registry call failed. {@link #retryable()} is true for transport failures and 5xx answers
 * (try again later), false for refusals (4xx) that repeating will not change. {@link #problem()} is the
 * slug of the registry's problem type ({@code host-owned-by-another-token}), empty when the answer had none.
 */
public class RegistryException extends RuntimeException {

    private final int status;
    private final boolean retryable;
    private final String problem;

    public RegistryException(String message, int status, boolean retryable, Throwable cause) {
        this(message, status, "", retryable, cause);
    }

    public RegistryException(String message, int status, String problem, boolean retryable, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.retryable = retryable;
        this.problem = problem == null ? "" : problem;
    }

    /** HTTP status, or -1 when the request did not get an answer. */
    public int status() {
        return status;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The problem type's slug (the last segment of its {@code type} URI), or empty. */
    public String problem() {
        return problem;
    }
}
