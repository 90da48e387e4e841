package io.aneforge.agent.registry;

import java.util.Optional;

/**
 * The registry answered a lease call with something this agent cannot read (a proxy's HTML page, a job kind it
 * does not know, a field missing). The registry may have leased a job to this agent all the same, so the
 * exception carries the id this agent sent with the call ({@link #request()}): the registry kept it with the
 * lease, and {@link RegistryClient#releaseLeaseRequest} releases that lease even when the answer names nothing.
 * The answer's {@code leaseId} and {@code jobId} are here too when they could still be read.
 */
public final class UnreadableLeaseException extends RuntimeException {

    private final String request;
    private final String leaseId;
    private final String jobId;

    public UnreadableLeaseException(String message, String request, String leaseId, String jobId, Throwable cause) {
        super(message, cause);
        this.request = request;
        this.leaseId = leaseId;
        this.jobId = jobId;
    }

    /** The id this agent sent with the lease call ({@code ?request=}), or empty when it sent none. */
    public Optional<String> request() {
        return Optional.ofNullable(request);
    }

    public Optional<String> leaseId() {
        return Optional.ofNullable(leaseId);
    }

    public Optional<String> jobId() {
        return Optional.ofNullable(jobId);
    }
}
