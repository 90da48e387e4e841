package io.aneforge.worker.registry;

import java.io.IOException;
import java.util.Set;

/**
 * The registry refused a call or could not be reached; {@code problem} is the problem slug (or null),
 * {@code status} the HTTP status (0 when there was no answer).
 */
public class RegistryException extends RuntimeException {

    /** Answers that say "not now" rather than "no": overloaded, a gateway without its registry, rate limited. */
    private static final Set<Integer> TRANSIENT = Set.of(429, 502, 503, 504);

    private final int status;
    private final String problem;

    public RegistryException(String message, int status, String problem, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.problem = problem;
    }

    public int status() { return status; }

    public String problem() { return problem; }

    /** The lease is gone (taken over after expiry, or the conversion was cancelled): stop working on it. */
    public boolean leaseGone() {
        return "lease-lost".equals(problem) || "conversion-cancelled".equals(problem) || "conversion-not-leasable".equals(problem);
    }

    /**
     * The registry could not be reached (connection refused or reset, a timeout) or answered that it cannot
     * serve now (429, 502, 503, 504): the same call may well succeed later, so the conversion is not at fault.
     * An interrupted call is not transient (the worker is stopping).
     */
    public boolean isTransient() {
        return status == 0 ? getCause() instanceof IOException : transientStatus(status);
    }

    static boolean transientStatus(int status) {
        return TRANSIENT.contains(status);
    }
}
