package io.aneforge.worker.registry;

/** The registry refused a call or could not be reached; {@code problem} is the problem slug (or null). */
public class RegistryException extends RuntimeException {

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
}
